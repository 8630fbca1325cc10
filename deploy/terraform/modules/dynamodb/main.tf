# Every DynamoDB table of the product. The list, keys, indexes and TTL attributes mirror
# runtime/adapters/dynamodb/tables.ts (the single source of truth); test/deploy/terraform.test.ts fails when
# they disagree. All tables are on demand, with point-in-time recovery (spec §2: DynamoDB is restored via
# PITR) and deletion protection. DynamoDB declares only key attributes; the rest are listed in tables.ts.

locals {
  # table key => { hash_key, range_key, attributes (key name => type S|N), indexes, ttl_attribute }
  tables = {
    messages = {
      hash_key      = "chat_id"
      range_key     = "sequence"
      attributes    = { chat_id = "S", sequence = "N" }
      indexes       = []
      ttl_attribute = null
    }
    chat_counters = {
      hash_key      = "chat_id"
      range_key     = null
      attributes    = { chat_id = "S" }
      indexes       = []
      ttl_attribute = null
    }
    idempotency_keys = {
      hash_key      = "chat_id"
      range_key     = "client_message_id"
      attributes    = { chat_id = "S", client_message_id = "S" }
      indexes       = []
      ttl_attribute = "ttl"
    }
    users = {
      hash_key   = "user_id"
      range_key  = null
      attributes = { user_id = "S", phone_number = "S" }
      indexes = [
        { name = "phone_number-index", hash_key = "phone_number", range_key = null, projection = "KEYS_ONLY" },
      ]
      ttl_attribute = null
    }
    chats = {
      hash_key      = "chat_id"
      range_key     = null
      attributes    = { chat_id = "S" }
      indexes       = []
      ttl_attribute = null
    }
    chat_memberships = {
      hash_key   = "chat_id"
      range_key  = "user_id"
      attributes = { chat_id = "S", user_id = "S" }
      indexes = [
        { name = "user_chats-index", hash_key = "user_id", range_key = "chat_id", projection = "ALL" },
      ]
      ttl_attribute = null
    }
    delivery_state = {
      hash_key      = "user_id"
      range_key     = "chat_id"
      attributes    = { user_id = "S", chat_id = "S" }
      indexes       = []
      ttl_attribute = null
    }
    sessions = {
      hash_key   = "session_id"
      range_key  = null
      attributes = { session_id = "S", user_id = "S" }
      indexes = [
        { name = "user_sessions-index", hash_key = "user_id", range_key = null, projection = "ALL" },
      ]
      ttl_attribute = "ttl"
    }
    otp_requests = {
      hash_key      = "phone_hash"
      range_key     = null
      attributes    = { phone_hash = "S" }
      indexes       = []
      ttl_attribute = "ttl"
    }
    direct_chat_index = {
      hash_key      = "pair_key"
      range_key     = null
      attributes    = { pair_key = "S" }
      indexes       = []
      ttl_attribute = null
    }
    ring_config = {
      hash_key      = "ring_id"
      range_key     = null
      attributes    = { ring_id = "S" }
      indexes       = []
      ttl_attribute = null
    }
    actor_activations = {
      hash_key      = "chat_id"
      range_key     = null
      attributes    = { chat_id = "S" }
      indexes       = []
      ttl_attribute = null
    }
    request_idempotency = {
      hash_key      = "scope_key"
      range_key     = null
      attributes    = { scope_key = "S" }
      indexes       = []
      ttl_attribute = "ttl"
    }
    rate_limits = {
      hash_key      = "limit_key"
      range_key     = null
      attributes    = { limit_key = "S" }
      indexes       = []
      ttl_attribute = "ttl"
    }
  }
}

resource "aws_dynamodb_table" "this" {
  for_each = local.tables

  # TABLE_PREFIX + table key, as runtime/adapters/dynamodb/tables.ts names them.
  name         = "${var.table_prefix}${each.key}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = each.value.hash_key
  range_key    = each.value.range_key

  deletion_protection_enabled = var.deletion_protection

  dynamic "attribute" {
    for_each = each.value.attributes
    content {
      name = attribute.key
      type = attribute.value
    }
  }

  dynamic "global_secondary_index" {
    for_each = each.value.indexes
    content {
      name            = global_secondary_index.value.name
      hash_key        = global_secondary_index.value.hash_key
      range_key       = global_secondary_index.value.range_key
      projection_type = global_secondary_index.value.projection
    }
  }

  # D12: a storage saving only; reads and conditions go by `expires_at`, since TTL deletes lag.
  dynamic "ttl" {
    for_each = each.value.ttl_attribute == null ? [] : [each.value.ttl_attribute]
    content {
      attribute_name = ttl.value
      enabled        = true
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  tags = merge(var.tags, { "messaging/table" = each.key })
}
