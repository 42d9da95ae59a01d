"""Sample tests run under allure-pytest by scripts/test-formats.sh. Their outcomes are
fixed on purpose (failures, a broken fixture, a retry); compare_allure.py checks that
tmbridge reads the allure-results they produce as pytest ran them."""

import allure
import pytest

ATTEMPTS = {"flaky": 0}


@allure.feature("Cart")
@allure.story("Add items")
@allure.epic("Shop")
@allure.tag("smoke")
@allure.label("owner", "ann")
@allure.severity(allure.severity_level.CRITICAL)
@allure.testcase("https://testrail.example/index.php?/cases/view/101", "C101")
@allure.issue("https://tracker.example/browse/SHOP-7", "SHOP-7")
def test_add_to_cart():
    with allure.step("open the shop"):
        with allure.step("log in"):
            pass
    with allure.step("add one item"):
        assert 1 + 1 == 2


@allure.testcase("https://testrail.example/index.php?/cases/view/102", "C102")
def test_total_is_wrong():
    with allure.step("compute the total"):
        allure.attach("total=41", name="total", attachment_type=allure.attachment_type.TEXT)
    with allure.step("check the total"):
        assert 41 == 42, "the total is off by one"


def test_payment_service_down():
    raise ConnectionError("payment service unreachable")


@pytest.mark.skip(reason="not ready")
def test_refund():
    pass


@pytest.mark.parametrize("quantity", [1, 3])
def test_quantity(quantity):
    allure.dynamic.parameter("currency", "EUR")
    assert quantity < 2


@pytest.fixture
def database():
    raise RuntimeError("no database connection")


def test_needs_database(database):
    pass


@pytest.mark.flaky(reruns=2)
def test_sometimes_slow():
    ATTEMPTS["flaky"] += 1
    assert ATTEMPTS["flaky"] > 1, "first attempt times out"


class TestCheckout:
    def test_pay(self):
        with allure.step("pay by card"):
            assert True
