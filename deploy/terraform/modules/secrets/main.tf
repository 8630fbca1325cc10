# The platform's secrets in Secrets Manager: the RS256 key chat management signs access tokens with (D11;
# gateways verify with its public JWKS), the OTP pepper (HMAC key of stored codes), the operator API token and
# the token every internal gRPC call carries.
# Values are generated here, so they live in the Terraform state too: keep the state encrypted and private,
# or set generate_values = false and put the values in with the console/CLI (the secrets are created empty).

resource "tls_private_key" "jwt" {
  count     = var.generate_values ? 1 : 0
  algorithm = "RSA"
  rsa_bits  = 2048
}

resource "random_password" "otp_pepper" {
  count   = var.generate_values ? 1 : 0
  length  = 48
  special = false
}

resource "random_password" "admin_token" {
  count   = var.generate_values ? 1 : 0
  length  = 48
  special = false
}

resource "random_password" "internal_grpc_token" {
  count   = var.generate_values ? 1 : 0
  length  = 48
  special = false
}

locals {
  descriptions = {
    jwt_private_key     = "PEM (PKCS#8) RSA key chat management signs access tokens with"
    otp_pepper          = "HMAC key under which OTP codes are stored (OTP_PEPPER)"
    admin_token         = "Bearer token of the operator API /admin/ring and /inspector (ADMIN_TOKEN)"
    internal_grpc_token = "Token every internal gRPC call carries and every internal gRPC server checks (INTERNAL_GRPC_TOKEN)"
  }
  # Kept apart from the descriptions: for_each may not iterate over sensitive values.
  values = var.generate_values ? {
    # PKCS#8 PEM: the format JWT_PRIVATE_KEY_FILE expects.
    jwt_private_key     = tls_private_key.jwt[0].private_key_pem_pkcs8
    otp_pepper          = random_password.otp_pepper[0].result
    admin_token         = random_password.admin_token[0].result
    internal_grpc_token = random_password.internal_grpc_token[0].result
  } : {}
}

resource "aws_secretsmanager_secret" "this" {
  for_each                = local.descriptions
  name                    = "${var.name}/${each.key}"
  description             = each.value
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "this" {
  for_each      = var.generate_values ? local.descriptions : {}
  secret_id     = aws_secretsmanager_secret.this[each.key].id
  secret_string = local.values[each.key]
}
