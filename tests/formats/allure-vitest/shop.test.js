// Sample tests run under allure-vitest by scripts/test-formats.sh. Their outcomes are
// fixed on purpose (failures, a broken hook, a retry); compare_allure.py checks that
// tmbridge reads the allure-results they produce as vitest ran them.
import { beforeAll, describe, expect, it } from "vitest";
import * as allure from "allure-js-commons";

describe("cart", () => {
  it("adds an item", async () => {
    await allure.feature("Cart");
    await allure.story("Add items");
    await allure.epic("Shop");
    await allure.tag("smoke");
    await allure.owner("ann");
    await allure.severity("critical");
    await allure.tms("https://testrail.example/index.php?/cases/view/201", "C201");
    await allure.issue("https://tracker.example/browse/SHOP-8", "SHOP-8");
    await allure.step("open the shop", async () => {
      await allure.step("log in", async () => {});
    });
    await allure.step("add one item", async () => {
      expect(1 + 1).toBe(2);
    });
  });

  it("computes the total", async () => {
    await allure.tms("https://testrail.example/index.php?/cases/view/202");
    await allure.step("compute the total", async () => {
      await allure.attachment("total", "total=41", "text/plain");
    });
    await allure.step("check the total", async () => {
      expect(41).toBe(42);
    });
  });

  it("reaches the payment service", () => {
    throw new Error("payment service unreachable");
  });

  it.skip("refunds", () => {});

  it.each([1, 3])("accepts quantity %i", async (quantity) => {
    await allure.parameter("currency", "EUR");
    expect(quantity).toBeLessThan(2);
  });

  let attempts = 0;
  it("is sometimes slow", { retry: 2 }, () => {
    attempts += 1;
    expect(attempts, "first attempt times out").toBeGreaterThan(1);
  });
});

describe("orders", () => {
  beforeAll(() => {
    throw new Error("no database connection");
  });

  it("lists orders", () => {});
});
