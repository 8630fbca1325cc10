# One role of the platform as an ECS Fargate service, from the single platform image (`--role <role>`):
# its task definition (container health check = the image's /health check, stopTimeout covering the role's
# SHUTDOWN_GRACE_MS), log group, IAM roles scoped to what the role's plane touches, target-tracking
# autoscaling, and optionally a load balancer target group and a Cloud Map name.

data "aws_region" "current" {}

locals {
  family = "${var.name_prefix}-${var.role}"
  # What the process will use as its grace period (runtime/config.ts default: 10 s).
  shutdown_grace_ms = tonumber(lookup(var.environment, "SHUTDOWN_GRACE_MS", "10000"))

  container = {
    name      = var.role
    image     = var.image
    essential = true
    command   = ["--role", var.role]
    # Sorted for a stable task definition (no spurious diffs).
    environment = [for key in sort(keys(var.environment)) : { name = key, value = var.environment[key] }]
    secrets     = [for key in sort(keys(var.secrets)) : { name = key, valueFrom = var.secrets[key] }]
    portMappings = concat(
      [{ name = "http", containerPort = var.http_port, protocol = "tcp" }],
      [{ name = "internal", containerPort = var.internal_port, protocol = "tcp" }],
      var.grpc_port == null ? [] : [{ name = "grpc", containerPort = var.grpc_port, protocol = "tcp" }],
    )
    # spec §5: GET /health every 10 s (fanout 15 s), 3 failures = unhealthy.
    healthCheck = {
      command     = ["CMD", "/app/deploy/docker-entrypoint.sh", "healthcheck"]
      interval    = var.health_check_interval_seconds
      timeout     = 5
      retries     = 3
      startPeriod = 30
    }
    # SIGTERM, then this long for the drain before SIGKILL (gateway: 30 s drain, hard kill at 35 s).
    stopTimeout            = var.stop_timeout_seconds
    readonlyRootFilesystem = false
    linuxParameters        = { initProcessEnabled = true }
    user                   = "1000:1000"
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = var.role
      }
    }
  }
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${local.family}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

# ---- IAM: the execution role pulls the image, writes logs and reads this role's secrets; the task role is
# what the process itself may do.

data "aws_iam_policy_document" "assume_tasks" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${local.family}-execution"
  assume_role_policy = data.aws_iam_policy_document.assume_tasks.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role_policy" "execution_secrets" {
  count = length(var.secrets) == 0 ? 0 : 1
  name  = "secrets"
  role  = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = distinct(values(var.secrets))
    }]
  })
}

resource "aws_iam_role" "task" {
  name               = "${local.family}-task"
  assume_role_policy = data.aws_iam_policy_document.assume_tasks.json
  tags               = var.tags
}

locals {
  read_actions  = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:ConditionCheckItem"]
  write_actions = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]
  with_indexes  = { for key, arn in var.dynamodb_table_arns : key => [arn, "${arn}/index/*"] }
}

data "aws_iam_policy_document" "dynamodb" {
  # Every process checks at start that every table exists (ensureTables: DescribeTable; no CreateTable here,
  # so a table missing from Terraform fails the start instead of being created outside it).
  statement {
    sid       = "DescribeTables"
    actions   = ["dynamodb:DescribeTable"]
    resources = values(var.dynamodb_table_arns)
  }
  dynamic "statement" {
    for_each = length(var.dynamodb_read_tables) == 0 ? [] : [1]
    content {
      sid       = "Read"
      actions   = local.read_actions
      resources = flatten([for key in var.dynamodb_read_tables : local.with_indexes[key]])
    }
  }
  dynamic "statement" {
    for_each = length(var.dynamodb_write_tables) == 0 ? [] : [1]
    content {
      sid       = "Write"
      actions   = concat(local.read_actions, local.write_actions)
      resources = flatten([for key in var.dynamodb_write_tables : local.with_indexes[key]])
    }
  }
}

resource "aws_iam_role_policy" "dynamodb" {
  name   = "dynamodb"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.dynamodb.json
}

resource "aws_iam_role_policy" "kafka" {
  count  = var.kafka_policy_json == null ? 0 : 1
  name   = "kafka"
  role   = aws_iam_role.task.id
  policy = var.kafka_policy_json
}

# One-time codes as SMS (SMS_SENDER=sns): a publish to a phone number has no topic ARN to scope it to.
resource "aws_iam_role_policy" "sms" {
  count = var.sns_publish_sms ? 1 : 0
  name  = "sms"
  role  = aws_iam_role.task.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["sns:Publish"]
      Resource = "*"
    }]
  })
}

# ---- Task definition and service

resource "aws_ecs_task_definition" "this" {
  family                   = local.family
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = jsonencode([local.container])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  lifecycle {
    precondition {
      condition     = var.stop_timeout_seconds * 1000 > local.shutdown_grace_ms
      error_message = "stop_timeout_seconds must exceed SHUTDOWN_GRACE_MS, or ECS kills the task mid-drain."
    }
  }

  tags = var.tags
}

resource "aws_service_discovery_service" "this" {
  count = var.service_discovery_namespace_id == null ? 0 : 1
  name  = var.role
  dns_config {
    namespace_id   = var.service_discovery_namespace_id
    routing_policy = "MULTIVALUE"
    dns_records {
      type = "A"
      ttl  = 10
    }
  }
  health_check_custom_config {
    failure_threshold = 1
  }
}

resource "aws_ecs_service" "this" {
  name                              = var.role
  cluster                           = var.cluster_arn
  task_definition                   = aws_ecs_task_definition.this.arn
  desired_count                     = var.min_count
  launch_type                       = "FARGATE"
  platform_version                  = "1.4.0"
  propagate_tags                    = "SERVICE"
  enable_execute_command            = var.enable_execute_command
  health_check_grace_period_seconds = var.target_group_arn == null ? null : 60

  # Rolling, gated on health (spec §5); the circuit breaker rolls a failing deployment back.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  deployment_circuit_breaker {
    enable   = true
    rollback = var.rollback_on_failure
  }

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = false
  }

  dynamic "load_balancer" {
    for_each = var.target_group_arn == null ? [] : [var.target_group_arn]
    content {
      target_group_arn = load_balancer.value
      container_name   = var.role
      container_port   = var.http_port
    }
  }

  dynamic "service_registries" {
    for_each = aws_service_discovery_service.this
    content {
      registry_arn = service_registries.value.arn
    }
  }

  # The autoscaler owns the count after creation.
  lifecycle {
    ignore_changes = [desired_count]
  }

  tags = var.tags
}

# ---- Autoscaling: target tracking on CPU (spec §5's own signals — connections, persist P99, consumer lag —
# are application metrics; add step policies on them once they are published to CloudWatch).

resource "aws_appautoscaling_target" "this" {
  service_namespace  = "ecs"
  resource_id        = "service/${element(split("/", var.cluster_arn), 1)}/${aws_ecs_service.this.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_count
  max_capacity       = var.max_count
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${local.family}-cpu"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  resource_id        = aws_appautoscaling_target.this.resource_id
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  policy_type        = "TargetTrackingScaling"
  target_tracking_scaling_policy_configuration {
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
    target_value = var.cpu_target_percent
    # Scaling in a gateway drains its connections: slowly.
    scale_in_cooldown  = var.scale_in_cooldown_seconds
    scale_out_cooldown = 60
  }
}
