"""Characters outside the XML 1.0 ``Char`` production (spec §2.3), surrogates included.

Writers must never emit them (DECISIONS 2); both the packet layer and the value encoders
check against this one pattern.
"""

import re

INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
