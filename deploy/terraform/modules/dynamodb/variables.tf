variable "table_prefix" {
  description = "Prefix of every table name; the roles get the same value as TABLE_PREFIX. Letters, digits, `_`, `.`, `-`."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]*$", var.table_prefix))
    error_message = "table_prefix may hold only letters, digits, `_`, `.` and `-` (TABLE_PREFIX_PATTERN)."
  }
}

variable "deletion_protection" {
  description = "Refuse DeleteTable on every table (turn off only to destroy a throwaway environment)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags of every table."
  type        = map(string)
  default     = {}
}
