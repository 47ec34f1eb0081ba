"""One module per flow: read changes, map, write, record. Depends on ports, not on boto3 or HTTP."""
