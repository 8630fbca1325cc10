// Original file: proto/messaging/v1/events.proto


/**
 * Topic memberships.changed.
 */
export interface MembershipChanged {
  'chat_id'?: (string);
  'user_id'?: (string);
  /**
   * "added", "removed" or "role_changed".
   */
  'change_type'?: (string);
  'role'?: (string);
  'changed_by'?: (string);
  'member_count_after'?: (number);
  'changed_at'?: (string);
}

/**
 * Topic memberships.changed.
 */
export interface MembershipChanged__Output {
  'chat_id': (string);
  'user_id': (string);
  /**
   * "added", "removed" or "role_changed".
   */
  'change_type': (string);
  'role': (string);
  'changed_by': (string);
  'member_count_after': (number);
  'changed_at': (string);
}
