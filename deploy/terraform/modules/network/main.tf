# VPC, subnets and the security groups of the planes.
# Public subnets hold only the load balancer and the NAT gateways; tasks, MSK and ElastiCache live in private
# subnets. DynamoDB is reached through a gateway VPC endpoint (no NAT traffic, and its policy can pin the
# tables); security groups cannot filter DynamoDB by role, so per-role IAM policies (modules/ecs-service) do.

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  azs = slice(data.aws_availability_zones.available.names, 0, var.az_count)
  # /20 per subnet: public 0..az_count-1, private 8..8+az_count-1.
  public_cidrs  = [for i in range(var.az_count) : cidrsubnet(var.cidr_block, 4, i)]
  private_cidrs = [for i in range(var.az_count) : cidrsubnet(var.cidr_block, 4, i + 8)]
  nat_count     = var.single_nat_gateway ? 1 : var.az_count
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(var.tags, { Name = var.name })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = var.name })
}

resource "aws_subnet" "public" {
  count                   = var.az_count
  vpc_id                  = aws_vpc.this.id
  cidr_block              = local.public_cidrs[count.index]
  availability_zone       = local.azs[count.index]
  map_public_ip_on_launch = false
  tags                    = merge(var.tags, { Name = "${var.name}-public-${local.azs[count.index]}", Tier = "public" })
}

resource "aws_subnet" "private" {
  count             = var.az_count
  vpc_id            = aws_vpc.this.id
  cidr_block        = local.private_cidrs[count.index]
  availability_zone = local.azs[count.index]
  tags              = merge(var.tags, { Name = "${var.name}-private-${local.azs[count.index]}", Tier = "private" })
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }
  tags = merge(var.tags, { Name = "${var.name}-public" })
}

resource "aws_route_table_association" "public" {
  count          = var.az_count
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_eip" "nat" {
  count  = local.nat_count
  domain = "vpc"
  tags   = merge(var.tags, { Name = "${var.name}-nat-${count.index}" })
}

# Tasks pull images and reach Secrets Manager, CloudWatch Logs and ECR through NAT.
resource "aws_nat_gateway" "this" {
  count         = local.nat_count
  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id
  tags          = merge(var.tags, { Name = "${var.name}-nat-${count.index}" })
  depends_on    = [aws_internet_gateway.this]
}

resource "aws_route_table" "private" {
  count  = var.az_count
  vpc_id = aws_vpc.this.id
  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.this[var.single_nat_gateway ? 0 : count.index].id
  }
  tags = merge(var.tags, { Name = "${var.name}-private-${count.index}" })
}

resource "aws_route_table_association" "private" {
  count          = var.az_count
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

resource "aws_vpc_endpoint" "dynamodb" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${var.region}.dynamodb"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = aws_route_table.private[*].id
  tags              = merge(var.tags, { Name = "${var.name}-dynamodb" })
}

# ---------------------------------------------------------------------------------------------------------
# Security groups: one per plane member. Rules are data (below), so that tests can read who reaches what.

locals {
  groups = {
    alb      = "Load balancer: the only group open to the internet"
    gateway  = "Connection plane: WebSocket from the ALB, GatewayService gRPC from fanout and chatmgmt"
    ingest   = "Durability plane: IngestService gRPC from gateways only"
    fanout   = "Fanout plane: no inbound traffic"
    chatmgmt = "Management plane: REST from the ALB, JWKS for gateways"
    redis    = "ElastiCache Redis: routing, presence, liveness"
    msk      = "MSK Serverless: the event log (IAM auth over TLS)"
    # Nothing in it by default: monitoring (Prometheus) and operator tasks join it to reach INTERNAL_PORT.
    operations = "Monitoring and operators: the internal HTTP port (/metrics, /admin/ring, /inspector, detailed /health)"
  }

  # Inbound rules: group => list of { port, from (a group), why }.
  # spec §1 flows: client -> ALB -> gateway -> ingest (gRPC); fanout -> gateway (Deliver); chatmgmt -> gateway
  # (closing a revoked session's connections); gateway -> chatmgmt (JWKS). Redis and Kafka: every role opens
  # them today (app/platform-adapters.ts opens all engines and /health probes them in every role).
  # The internal HTTP port of every role is open to the operations group only, never to the ALB.
  ingress = {
    alb = []
    gateway = [
      { port = var.http_port, from = "alb", why = "WebSocket /v1/ws and ALB health checks" },
      { port = var.grpc_port, from = "fanout", why = "GatewayService.Deliver" },
      { port = var.grpc_port, from = "chatmgmt", why = "GatewayService.CloseConnections" },
      { port = var.internal_port, from = "operations", why = "metrics, inspector, detailed health" },
    ]
    ingest = [
      { port = var.grpc_port, from = "gateway", why = "IngestService: PersistMessage, SyncMessages, Ack" },
      { port = var.internal_port, from = "operations", why = "metrics, operator ring API, inspector, detailed health" },
    ]
    fanout = [
      { port = var.internal_port, from = "operations", why = "metrics, inspector, detailed health" },
    ]
    chatmgmt = [
      { port = var.http_port, from = "alb", why = "REST /api/v1 and ALB health checks" },
      { port = var.http_port, from = "gateway", why = "JWKS /.well-known/jwks.json" },
      { port = var.internal_port, from = "operations", why = "metrics, operator ring API, inspector, detailed health" },
    ]
    operations = []
    redis = [
      { port = 6379, from = "gateway", why = "connection routing and liveness" },
      { port = 6379, from = "ingest", why = "node liveness" },
      { port = 6379, from = "fanout", why = "routing lookups" },
      { port = 6379, from = "chatmgmt", why = "node liveness" },
    ]
    msk = [
      { port = 9098, from = "ingest", why = "produce messages.persisted" },
      { port = 9098, from = "fanout", why = "consume as fanout-workers" },
      { port = 9098, from = "chatmgmt", why = "produce chats.created and memberships.changed" },
      { port = 9098, from = "gateway", why = "topic checks and /health (every role opens the event log today)" },
    ]
  }

  ingress_rules = merge([
    for group, rules in local.ingress : {
      for rule in rules : "${group}-${rule.port}-from-${rule.from}" => merge(rule, { group = group })
    }
  ]...)

  # Outbound: a role reaches exactly the groups whose inbound rules name it, plus HTTPS (443) for AWS APIs
  # (DynamoDB through the gateway endpoint, Secrets Manager, CloudWatch Logs, ECR).
  egress_rules = {
    for name, rule in local.ingress_rules : "${rule.from}-to-${name}" => rule
  }
  https_egress = ["gateway", "ingest", "fanout", "chatmgmt"]
}

resource "aws_security_group" "this" {
  for_each    = local.groups
  name        = "${var.name}-${each.key}"
  description = each.value
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

resource "aws_vpc_security_group_ingress_rule" "from_group" {
  for_each                     = local.ingress_rules
  security_group_id            = aws_security_group.this[each.value.group].id
  referenced_security_group_id = aws_security_group.this[each.value.from].id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  description                  = each.value.why
}

resource "aws_vpc_security_group_egress_rule" "to_group" {
  for_each                     = local.egress_rules
  security_group_id            = aws_security_group.this[each.value.from].id
  referenced_security_group_id = aws_security_group.this[each.value.group].id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
  description                  = each.value.why
}

resource "aws_vpc_security_group_ingress_rule" "alb_public" {
  for_each          = toset([for port in var.alb_listener_ports : tostring(port)])
  security_group_id = aws_security_group.this["alb"].id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.key)
  to_port           = tonumber(each.key)
  description       = "clients"
}

resource "aws_vpc_security_group_egress_rule" "https" {
  for_each          = toset(local.https_egress)
  security_group_id = aws_security_group.this[each.key].id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  description       = "AWS APIs: DynamoDB (VPC endpoint), Secrets Manager, CloudWatch Logs, ECR"
}
