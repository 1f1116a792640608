import { ProviderBudgets } from './provider-budget.js';

describe("a provider's write budget", () => {
  test("is the kubelet's burst of 100, per node, and is not refilled by reconnecting", () => {
    const budgets = new ProviderBudgets();
    const taken = Array.from({ length: 150 }, () => budgets.of('greedy').tryRemoveTokens(1)).filter(Boolean);
    expect(taken).toHaveLength(100);
    expect(budgets.of('greedy').tryRemoveTokens(1)).toBe(false);
    expect(budgets.of('other').tryRemoveTokens(1)).toBe(true);
  });

  test('refills at its rate', async () => {
    const budgets = new ProviderBudgets({ qps: 1000, burst: 1 });
    expect(budgets.of('n').tryRemoveTokens(1)).toBe(true);
    expect(budgets.of('n').tryRemoveTokens(1)).toBe(false);
    await budgets.of('n').removeTokens(1); // resolves once a token came back (about 1 ms)
    expect(budgets.of('n').tryRemoveTokens(1)).toBe(false);
  });
});
