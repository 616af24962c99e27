/**
 * The grid-management hierarchy (网格化管理): street (街道) → community (社区) → grid (网格) →
 * building, with the people who answer for each level and the devices in each building.
 */

export interface Street {
  readonly id: string;
  /** 9 digits: 6-digit county code (GB/T 2260) + 3-digit street. */
  readonly code: string;
  readonly name: string;
}

export interface Community {
  readonly id: string;
  readonly streetId: string;
  /** 12 digits: street code + 3-digit community. */
  readonly code: string;
  readonly name: string;
}

export interface Grid {
  readonly id: string;
  readonly communityId: string;
  /** 14 digits: community code + 2-digit grid (configurable pattern). */
  readonly code: string;
  readonly name: string;
}

export interface Building {
  readonly id: string;
  readonly gridId: string;
  readonly name: string;
  readonly address: string | null;
  readonly floors: number | null;
}

export const PERSON_ROLES = ['captain', 'grid_worker', 'community_staff', 'street_dispatcher'] as const;
export type PersonRole = (typeof PERSON_ROLES)[number];

export const CHANNEL_TYPES = ['webhook', 'wecom', 'dingtalk', 'email', 'sms'] as const;
export type NotificationChannelType = (typeof CHANNEL_TYPES)[number];

export interface NotificationChannel {
  readonly type: NotificationChannelType;
  /** URL, e-mail address or phone number, depending on type. */
  readonly target: string;
}

export interface Person {
  readonly id: string;
  readonly name: string;
  readonly role: PersonRole;
  /** What the person answers for: building ids for captains, a grid/community/street id otherwise. */
  readonly scope: readonly string[];
  /** In order of preference: the next one is the fallback. */
  readonly channels: readonly NotificationChannel[];
}

export interface Device {
  readonly id: string;
  readonly kind: string;
  readonly buildingId: string;
  readonly floor: number | null;
  readonly name: string | null;
  /** A panel, NVR or gateway this device reports through (its children go quiet when it does). */
  readonly parentId: string | null;
  readonly disabled: boolean;
  readonly createdAt: number;
}

/** Device ids are also MQTT usernames and topic levels: no wildcards, slashes or spaces. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
/** Ids of hierarchy entities: the same safe alphabet. */
export const ENTITY_ID_PATTERN = DEVICE_ID_PATTERN;
