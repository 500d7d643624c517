import { mailCommands } from './email.messages.js';
import { accountEventMessages, paymentReplies } from './payments.messages.js';
import { StockChecked, inventoryReplies } from './inventory.messages.js';
import { CheckStock, PlaceOrder, orderEvents, orderFlowEvents, sagaCommands, userEvents } from './orders.messages.js';
import { operatorEvents } from './operator.messages.js';

export * from './envelope.js';
export * from './message.js';
export * from './orders.messages.js';
export * from './orders.messages.v1.js';
export * from './inventory.messages.js';
export * from './payments.messages.js';
export * from './analytics.messages.js';
export * from './email.messages.js';
export * from './operator.messages.js';

/** Every envelope message type of the system, at its newest version (older versions hang off each one). */
export const allMessages = [
  PlaceOrder,
  ...orderEvents,
  ...orderFlowEvents,
  ...userEvents,
  ...sagaCommands,
  ...inventoryReplies,
  ...paymentReplies,
  ...accountEventMessages,
  CheckStock,
  StockChecked,
  ...mailCommands,
  ...operatorEvents,
] as const;
