import type { z } from "zod";
import { AppError } from "../runtime/errors.js";

/**
 * Parses client input against a zod schema; failures become 400 VALIDATION_ERROR with
 * `details.field_errors: [{field, code, message}]` (spec §1).
 */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fieldErrors = result.error.issues.map((issue) => ({
    field: issue.path.map(String).join(".") || "body",
    code: fieldCode(issue),
    message: issue.message,
  }));
  const first = fieldErrors[0];
  throw new AppError(
    "VALIDATION_ERROR",
    first === undefined ? "invalid input" : `${first.field}: ${first.message}`,
    { details: { field_errors: fieldErrors } },
  );
}

function fieldCode(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "too_small":
      return issue.input === undefined ? "REQUIRED" : "MIN_LENGTH";
    case "too_big":
      return "TOO_LONG";
    case "invalid_type":
      return issue.input === undefined ? "REQUIRED" : "INVALID_TYPE";
    case "invalid_format":
      return "INVALID_FORMAT";
    case "invalid_value":
      return "INVALID_VALUE";
    case "unrecognized_keys":
      return "UNKNOWN_FIELD";
    case "custom":
      // A refinement names its own code in `params.code` (schemas.ts: INVALID_CHARACTERS).
      return typeof issue.params?.code === "string" ? issue.params.code : "INVALID";
    default:
      return "INVALID";
  }
}
