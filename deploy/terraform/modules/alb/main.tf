# The public entry point (spec §5 routing: "any other path returns 404"): WebSocket upgrades on /v1/ws to the
# gateways; REST /api/*, the JWKS, /health and the browser client to chat management; every other path is
# answered 404 by the load balancer itself. Targets are the roles' public port (PORT) only: the operator API,
# the inspector and metrics live on their internal port (INTERNAL_PORT), which no listener forwards to.
# WebSocket-friendly: a long idle timeout (clients heartbeat every 30 s, D6), no stickiness (any gateway
# serves any client; a client whose gateway goes away reconnects and syncs).

resource "aws_lb" "this" {
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.subnet_ids
  security_groups            = var.security_group_ids
  idle_timeout               = var.idle_timeout_seconds
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  tags                       = var.tags
}

locals {
  targets = {
    gateway  = { path = "/health" }
    chatmgmt = { path = "/health" }
  }
}

resource "aws_lb_target_group" "this" {
  for_each    = local.targets
  name        = "${var.name}-${each.key}"
  port        = var.target_port
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = var.vpc_id

  # A deregistering gateway keeps its sockets this long while it drains (SHUTDOWN_GRACE_MS, spec §5: 30 s).
  deregistration_delay = var.deregistration_delay_seconds

  stickiness {
    type    = "lb_cookie"
    enabled = false
  }

  # spec §5: /health every 10 s, 2 passes healthy, 3 failures unhealthy.
  health_check {
    path                = each.value.path
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = var.tags
}

resource "aws_lb_listener" "https" {
  count             = var.certificate_arn == null ? 0 : 1
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn
  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "application/json"
      status_code  = "404"
      message_body = local.not_found
    }
  }
}

# Plain HTTP serves only when there is no certificate (dev); otherwise it redirects to HTTPS.
resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"
  dynamic "default_action" {
    for_each = var.certificate_arn == null ? [] : [1]
    content {
      type = "redirect"
      redirect {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }
  dynamic "default_action" {
    for_each = var.certificate_arn == null ? [1] : []
    content {
      type = "fixed-response"
      fixed_response {
        content_type = "application/json"
        status_code  = "404"
        message_body = local.not_found
      }
    }
  }
}

locals {
  listener_arn = var.certificate_arn == null ? aws_lb_listener.http.arn : aws_lb_listener.https[0].arn
  # The REST error envelope (spec/rest-data-auth-chats.md §1) of a path the platform does not publish.
  not_found = jsonencode({ error = { code = "NOT_FOUND", message = "no such public endpoint" } })
  # What chat management publishes, at most five patterns per rule (an ALB limit): REST, the JWKS and the
  # health verdict; the browser client (its page and its files).
  public_paths = {
    api     = { priority = 20, paths = ["/api/*", "/.well-known/jwks.json", "/health"] }
    browser = { priority = 30, paths = ["/", "/index.html", "/web/*"] }
  }
}

resource "aws_lb_listener_rule" "websocket" {
  listener_arn = local.listener_arn
  priority     = 10
  condition {
    path_pattern {
      values = ["/v1/ws", "/v1/ws/*"]
    }
  }
  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this["gateway"].arn
  }
}

resource "aws_lb_listener_rule" "chatmgmt" {
  for_each     = local.public_paths
  listener_arn = local.listener_arn
  priority     = each.value.priority
  condition {
    path_pattern {
      values = each.value.paths
    }
  }
  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this["chatmgmt"].arn
  }
}
