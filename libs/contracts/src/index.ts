export * from './envelope.js';
export * from './message.js';
export * from './orders.messages.js';
