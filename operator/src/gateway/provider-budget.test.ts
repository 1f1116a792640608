import { jest } from '@jest/globals';
import { ProviderBudgets } from './provider-budget.js';

// The buckets read performance.now(): fake time, so a slow machine cannot refill one mid-test.
beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe("a provider's write budget", () => {
  test("is the kubelet's burst of 100, per node, and is not refilled by reconnecting", () => {
    const budgets = new ProviderBudgets();
    const taken = Array.from({ length: 150 }, () => budgets.of('greedy').tryRemoveTokens(1)).filter(Boolean);
    expect(taken).toHaveLength(100);
    expect(budgets.of('greedy').tryRemoveTokens(1)).toBe(false);
    expect(budgets.of('other').tryRemoveTokens(1)).toBe(true);
  });

  test('refills at its rate', () => {
    const budgets = new ProviderBudgets({ qps: 1000, burst: 1 });
    expect(budgets.of('n').tryRemoveTokens(1)).toBe(true);
    expect(budgets.of('n').tryRemoveTokens(1)).toBe(false);
    jest.advanceTimersByTime(1);
    expect(budgets.of('n').tryRemoveTokens(1)).toBe(true);
    expect(budgets.of('n').tryRemoveTokens(1)).toBe(false);
  });
});
