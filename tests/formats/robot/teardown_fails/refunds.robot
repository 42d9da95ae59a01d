*** Settings ***
Suite Teardown    Fail    could not clean the ledger

*** Test Cases ***
Refunds A Payment
    Log    refunded
