*** Settings ***
Suite Setup       Fail    database is down
