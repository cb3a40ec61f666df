from orchestra.cli.entry import main

main()
