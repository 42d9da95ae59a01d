from behave import given, when, then


@given("a basket with {count:d} items")
def basket(context, count):
    context.items = count


@when("I pay with a valid card")
def pay_valid(context):
    context.paid = True


@when("I pay with an expired card")
def pay_expired(context):
    context.paid = False


@when("I pay with a gift card")
def pay_gift(context):
    context.scenario.skip("gift cards are not supported yet")


@when("I add {extra:d} items")
def add_items(context, extra):
    context.items += extra


@then("the order is confirmed")
def confirmed(context):
    assert context.paid, "the payment was declined"


@then("the basket holds {total:d} items")
def holds(context, total):
    assert context.items == total, f"expected {total} items, found {context.items}"
