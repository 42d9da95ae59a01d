const { Given, When, Then } = require('@cucumber/cucumber');
const assert = require('node:assert');

Given('a basket with {int} items', function (count) { this.items = count; });
When('I pay with a valid card', function () { this.paid = true; });
When('I pay with an expired card', function () { this.paid = false; });
When('I pay with a gift card', function () { return 'pending'; });
When('I add {int} items', function (extra) { this.items += extra; });
When(/^I pay with (crypto)$/, function () { this.paid = true; });
When(/^I pay with cr(.*)$/, function () { this.paid = true; });
Then('the order is confirmed', function () {
  assert.ok(this.paid, 'the payment was declined');
  this.attach('receipt text', 'text/plain');
});
Then('the basket holds {int} items', function (total) {
  assert.strictEqual(this.items, total, `expected ${total} items, found ${this.items}`);
});
