export { NetworkConditioner, type ConditionerDirection, type NetworkConditionerOptions } from './network-conditioner.js';
export { PERFECT_LINK, type LinkConditions, type LinkCounters } from './link-conditions.js';
