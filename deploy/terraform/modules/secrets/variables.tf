variable "name" {
  description = "Path prefix of the secrets (`<name>/jwt_private_key`, …)."
  type        = string
}

variable "generate_values" {
  description = "Generate the values with Terraform (they end up in the state). False: create empty secrets to fill out of band."
  type        = bool
  default     = true
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret can be restored (0 deletes at once: throwaway environments only)."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags of every secret."
  type        = map(string)
  default     = {}
}
