"""The console: server-rendered pages for the MSP's finance team, served by the stack's Console function.

`app` routes requests (Powertools' APIGatewayHttpResolver) to thin views; what each page shows is gathered by
`overview`, `records`, `story`, `mappings` and `preview` from the same state stores, adapters and mapping
functions the flows use; `web` renders Jinja2 templates with autoescaping on, so every Autotask and Xero string
reaches the page as text. `auth` knows who is asking and what their role allows.
"""

# The flows in the order pages list them. sync/flows.py is the registry; importing it loads every flow's code,
# which the pages that only name flows need not pay for (a test checks both agree).
FLOWS = ("contacts", "invoices", "purchase_orders", "payments")
