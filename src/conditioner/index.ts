export { NetworkConditioner, type ConditionerDirection, type NetworkConditionerOptions } from './network-conditioner.js';
export { PERFECT_LINK, type LinkConditions, type LinkCounters } from './link-conditions.js';
export {
  CONDITION_FLAGS,
  CONDITION_FLAG_HELP,
  type ConditionFlag,
  type ConditionFlagValues,
  conditionFlagArgs,
  describeConditions,
  hasConditionFlags,
  readConditionFlags,
} from './condition-flags.js';
