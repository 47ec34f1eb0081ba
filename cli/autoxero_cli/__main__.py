from autoxero_cli.main import main

main()
