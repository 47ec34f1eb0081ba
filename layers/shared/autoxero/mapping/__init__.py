"""Pure business rules: Autotask records + settings + Xero reference data -> Xero payloads. No I/O.

All money is Decimal. A record that cannot be mapped yields a Problem (a message and the fix a finance
person should make), never an exception and never a guess.
"""
