from billing.plans import BUSINESS, FREE, TEAM, billing_enabled, plan_for_key, plan_for_price


def test_plan_for_price_names_plan_and_interval(settings):
    settings.STRIPE_PRICE_TEAM_MONTHLY = "price_team_m"
    settings.STRIPE_PRICE_TEAM_YEARLY = "price_team_y"
    settings.STRIPE_PRICE_BUSINESS_MONTHLY = "price_biz_m"
    settings.STRIPE_PRICE_BUSINESS_YEARLY = "price_biz_y"
    assert plan_for_price("price_team_m") == (TEAM, "month")
    assert plan_for_price("price_team_y") == (TEAM, "year")
    assert plan_for_price("price_biz_y") == (BUSINESS, "year")
    assert plan_for_price("price_other") is None


def test_unconfigured_prices_match_nothing(settings):
    settings.STRIPE_PRICE_TEAM_MONTHLY = ""
    assert plan_for_price("") is None
    assert FREE.price_id("month") == ""


def test_unknown_key_is_free():
    assert plan_for_key("gold") is FREE
    assert plan_for_key("team") is TEAM


def test_billing_is_off_without_a_secret_key(settings):
    settings.STRIPE_SECRET_KEY = ""
    assert not billing_enabled()
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    assert billing_enabled()
