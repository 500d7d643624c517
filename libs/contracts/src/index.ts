export * from './envelope.js';
export * from './message.js';
export * from './orders.messages.js';
export * from './inventory.messages.js';
export * from './payments.messages.js';
