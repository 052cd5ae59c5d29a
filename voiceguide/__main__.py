"""Allow `python -m voiceguide`."""

from voiceguide.cli.main import main

raise SystemExit(main())
