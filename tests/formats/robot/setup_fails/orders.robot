*** Test Cases ***
Lists Orders
    Log    never runs

Cancels An Order
    Log    never runs
