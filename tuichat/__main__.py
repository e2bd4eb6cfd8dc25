from tuichat.launch import main

raise SystemExit(main())
