// Original file: proto/messaging/v1/common.proto


export interface PageResponse {
  /**
   * Empty at the end.
   */
  'next_page_token'?: (string);
}

export interface PageResponse__Output {
  /**
   * Empty at the end.
   */
  'next_page_token': (string);
}
