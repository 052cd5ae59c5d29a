"""Allow `python -m voiceguide`."""

from voiceguide.cli import main

raise SystemExit(main())
