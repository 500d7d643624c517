import { OrderCancelled, OrderConfirmed, UserRegistered } from '@am/contracts';
import { describe, expect, it } from 'vitest';
import type { Recipient } from './email.js';
import {
  describeCancellation,
  formatAmount,
  orderCancelledEmail,
  orderConfirmedEmail,
  orderReference,
  welcomeEmail,
} from './email.templates.js';

const origin = { correlationId: 'corr-1', messageId: '7d4c2f0e-1b2a-4c3d-9e8f-0a1b2c3d4e5f' };
const orderId = '3f2a9c1e-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
const ann: Recipient = { userId: 'user-1', email: 'ann@example.com', name: 'Ann' };

describe('email templates', () => {
  it('welcomes a registered user by name, at the address in the event', () => {
    const event = UserRegistered.create(
      { userId: 'user-1', email: 'ann@example.com', firstName: 'Ann', lastName: '', locale: 'en' },
      origin,
    );
    const email = welcomeEmail(event);
    expect(email).toMatchObject({
      kind: 'welcome',
      dedupeKey: 'welcome:user-1',
      to: { address: 'ann@example.com', name: 'Ann' },
      subject: 'Welcome to Async Shop, Ann!',
      messageId: '<welcome.user-1@email.async-messaging.local>',
      cause: { messageId: origin.messageId, type: 'user.registered', correlationId: 'corr-1' },
    });
    expect(email.text).toMatch(/^Hello Ann,\n/);
  });

  it('greets by first name, addresses the full name, and carries the locale (user.registered v2)', () => {
    const event = UserRegistered.create(
      { userId: 'user-2', email: 'bo@example.com', firstName: 'Bo', lastName: 'Lee Park', locale: 'ko-KR' },
      origin,
    );
    const email = welcomeEmail(event);
    expect(email).toMatchObject({
      to: { address: 'bo@example.com', name: 'Bo Lee Park' },
      subject: 'Welcome to Async Shop, Bo!',
      language: 'ko-KR',
    });
    expect(email.text).toMatch(/^Hello Bo Lee Park,\n/);
  });

  it('confirms an order with its id and total, to the recipient from the read model', () => {
    const event = OrderConfirmed.create({ orderId, userId: 'user-1', total: 2_500 }, origin);
    const email = orderConfirmedEmail(event, ann);
    expect(email).toMatchObject({
      kind: 'order-confirmed',
      dedupeKey: `order-confirmed:${orderId}`,
      to: { address: 'ann@example.com', name: 'Ann' },
      subject: 'Your order 3f2a9c1e is confirmed',
      messageId: `<order-confirmed.${orderId}@email.async-messaging.local>`,
    });
    expect(email.text).toContain(`Order: ${orderId}`);
    expect(email.text).toContain('Total: 25.00');
  });

  it('tells why an order was cancelled', () => {
    const event = OrderCancelled.create({ orderId, userId: 'user-1', total: 999, reason: 'payment_failed' }, origin);
    const email = orderCancelledEmail(event, ann);
    expect(email).toMatchObject({
      kind: 'order-cancelled',
      dedupeKey: `order-cancelled:${orderId}`,
      subject: 'Your order 3f2a9c1e was cancelled',
    });
    expect(email.text).toContain('because the payment did not go through');
    expect(email.text).toContain('Total: 9.99');
  });

  it('gives a confirmation and a cancellation of the same order different keys', () => {
    const confirmed = orderConfirmedEmail(OrderConfirmed.create({ orderId, userId: 'u', total: 1 }, origin), ann);
    const cancelled = orderCancelledEmail(
      OrderCancelled.create({ orderId, userId: 'u', total: 1, reason: 'timeout' }, origin),
      ann,
    );
    expect(confirmed.dedupeKey).not.toBe(cancelled.dedupeKey);
    expect(confirmed.messageId).not.toBe(cancelled.messageId);
  });

  it('words every cancellation reason', () => {
    expect(describeCancellation('out_of_stock')).toBe('some of the items are out of stock');
    expect(describeCancellation('payment_failed')).toBe('the payment did not go through');
    expect(describeCancellation('timeout')).toBe('we could not complete it in time');
  });

  it('formats cents as an amount with two places', () => {
    expect(formatAmount(0)).toBe('0.00');
    expect(formatAmount(5)).toBe('0.05');
    expect(formatAmount(2_500)).toBe('25.00');
    expect(formatAmount(123_456_789)).toBe('1234567.89');
    expect(formatAmount(-150)).toBe('-1.50');
  });

  it('shortens an order id to its first block', () => {
    expect(orderReference(orderId)).toBe('3f2a9c1e');
  });
});
