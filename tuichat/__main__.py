from tuichat.cli import main

raise SystemExit(main())
