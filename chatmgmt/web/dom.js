// Small DOM and text helpers shared by the page's modules.

import { ApiError } from "./api.js";

export const PHONE = /^\+[1-9]\d{6,14}$/;
export const USER_ID = /^user_[0-9A-Z]{26}$/;

/** @param {string} id @returns {any} */
export const $ = (id) => {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing`);
  return element;
};

/**
 * @param {string} tag @param {Record<string, string>} [attributes] @param {Array<Node | string>} [children]
 * @returns {HTMLElement}
 */
export function h(tag, attributes = {}, children = []) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") element.className = value;
    else element.setAttribute(name, value);
  }
  element.append(...children);
  return element;
}

/** @param {string} text */
export const normalisePhone = (text) => text.replace(/[\s().-]/g, "");

/** @param {unknown} error */
export function describe(error) {
  if (error instanceof ApiError) {
    switch (error.code) {
      case "INVALID_OTP":
        return "That code is not right, or it expired.";
      case "RATE_LIMITED":
        return "Too many attempts. Please wait a little and try again.";
      case "USER_NOT_FOUND":
        return "No such user.";
      case "ALREADY_A_MEMBER":
        return "Already in this chat.";
      case "VALIDATION_ERROR": {
        const first = /** @type {any} */ (error.details)?.field_errors?.[0];
        return first ? `${first.field}: ${first.message}` : error.message;
      }
      default:
        return error.message;
    }
  }
  if (error instanceof TypeError) return "The server cannot be reached.";
  return error instanceof Error ? error.message : String(error);
}

/** @param {HTMLButtonElement} button @param {() => Promise<unknown>} work */
export async function busy(button, work) {
  button.disabled = true;
  try {
    await work();
  } finally {
    button.disabled = false;
  }
}
