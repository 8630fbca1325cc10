import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { AppError } from "../../errors.js";
import { isSequence, type Sequence } from "../../ids.js";

/**
 * Hand-written marshalling between our records and DynamoDB items: a handful of typed helpers instead of
 * lib-dynamodb's generic conversion, so every attribute's DynamoDB type is chosen here on purpose (numbers
 * as N, always integers) and a malformed stored item fails loudly instead of flowing on as `undefined`.
 */
export type Item = Record<string, AttributeValue>;

export const str = (value: string): AttributeValue => ({ S: value });

export function num(value: number): AttributeValue {
  if (!Number.isSafeInteger(value)) {
    throw new AppError("INTERNAL_ERROR", "only safe integers are stored", {
      details: { value },
      public: false,
    });
  }
  return { N: String(value) };
}

const malformed = (name: string, expected: string): AppError =>
  new AppError("INTERNAL_ERROR", `stored item has a malformed attribute ${name} (expected ${expected})`, {
    details: { attribute: name },
    public: false,
  });

export function readOptionalString(item: Item, name: string): string | undefined {
  const value = item[name];
  if (value === undefined || value.NULL === true) return undefined;
  if (value.S === undefined) throw malformed(name, "S");
  return value.S;
}

export function readString(item: Item, name: string): string {
  const value = readOptionalString(item, name);
  if (value === undefined) throw malformed(name, "S");
  return value;
}

export function readOptionalNumber(item: Item, name: string): number | undefined {
  const value = item[name];
  if (value === undefined || value.NULL === true) return undefined;
  const parsed = value.N === undefined ? Number.NaN : Number(value.N);
  if (!Number.isSafeInteger(parsed)) throw malformed(name, "N holding a safe integer");
  return parsed;
}

export function readNumber(item: Item, name: string): number {
  const value = readOptionalNumber(item, name);
  if (value === undefined) throw malformed(name, "N");
  return value;
}

/** A string attribute restricted to a fixed set (content types, chat types, statuses, roles). */
export function readEnum<T extends string>(item: Item, name: string, allowed: readonly T[]): T {
  const value = readString(item, name);
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined) throw malformed(name, allowed.join("|"));
  return match;
}

/**
 * ExpressionAttributeNames for every `#name` placeholder in the expressions, each standing for the attribute
 * of the same name. Escaping every attribute sidesteps DynamoDB's reserved words (`name`, `status`, `role`,
 * `ttl`, ...), and deriving the map from the text keeps it exact: DynamoDB refuses unused names.
 */
export function attributeNames(...expressions: readonly (string | undefined)[]): Record<string, string> {
  const names: Record<string, string> = {};
  for (const expression of expressions) {
    for (const match of expression?.matchAll(/#([A-Za-z0-9_]+)/g) ?? []) {
      const attribute = match[1];
      if (attribute !== undefined) names[`#${attribute}`] = attribute;
    }
  }
  return names;
}

export function readSequence(item: Item, name: string): Sequence {
  const value = readNumber(item, name);
  if (!isSequence(value)) throw malformed(name, "a sequence");
  return value;
}
