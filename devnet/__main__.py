import sys

from devnet.main import main

sys.exit(main())
