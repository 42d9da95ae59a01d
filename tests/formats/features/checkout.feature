@checkout
Feature: Checkout
  Paying for the items in the basket.

  Background:
    Given a basket with 2 items

  @smoke @C201
  Scenario: Pay with a card
    When I pay with a valid card
    Then the order is confirmed

  @C202
  Scenario: Expired card
    When I pay with an expired card
    Then the order is confirmed

  Scenario: Gift card
    When I pay with a gift card
    Then the order is confirmed

  Scenario: Crypto
    When I pay with crypto
    Then the order is confirmed

  Scenario Outline: Totals
    When I add <extra> items
    Then the basket holds <total> items

    Examples:
      | extra | total |
      | 1     | 3     |
      | 2     | 5     |
      | 3     | 5     |

  Scenario: Bank transfer
    When I pay by bank transfer
    Then the order is confirmed
