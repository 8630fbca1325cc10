import { Controller, Get, UseGuards } from "@nestjs/common";
import { UnauthenticatedLimitGuard } from "./client-ip-limit.guard.js";
import { openApiDocument } from "./openapi/document.js";

/**
 * `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of this API, without a token, counted against the
 * client's IP like `GET /api/v1/`. The document is answered as it is, not wrapped in `{data}`: it is read by
 * tools that expect an OpenAPI document at its address.
 */
@Controller("api/v1")
export class OpenApiController {
  @Get("openapi.json")
  @UseGuards(UnauthenticatedLimitGuard)
  document() {
    return openApiDocument();
  }
}
