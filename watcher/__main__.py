from watcher.cli.main import main

main()
