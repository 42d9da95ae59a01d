*** Settings ***
Documentation     Checkout flows: passing, failing, skipped and nested keywords.
Metadata          Team    payments
Force Tags        checkout

*** Variables ***
${TOTAL}          42

*** Test Cases ***
Pays With A Card
    [Documentation]    The happy path.
    [Tags]    smoke    C101
    Log    paying ${TOTAL}
    Add Item    book
    Should Be Equal As Integers    ${TOTAL}    42

Rejects An Expired Card
    [Tags]    C102
    Add Item    pen
    Should Be Equal    expired    valid    card was accepted

Applies A Coupon Later
    [Tags]    wip
    Skip    coupons are not built yet

Loops Over Items
    FOR    ${item}    IN    a    b
        Log    ${item}
    END
    IF    ${TOTAL} > 40
        Log    big
    ELSE
        Log    small
    END

Fails In Teardown
    Log    body passes
    [Teardown]    Fail    cleanup broke

*** Keywords ***
Add Item
    [Arguments]    ${name}
    Log    adding ${name}
    Should Not Be Empty    ${name}
