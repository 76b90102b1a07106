"""証明書: 住民票の写し (世帯連記式・個人票), 住民票記載事項証明書, 除票の写し, 転出証明書 and
住民異動届受理通知 as PDF, with the requester rules, 支援措置 refusals, 本人通知 and the issuance
register (shared with other modules through `kikan.platform.issuance`).

- `rules`: kinds, items and requester rules (pure, data in ``data/certificates.toml``);
- `document`: what is printed, from a frozen `Plan` (pure);
- `service`: the use cases (`issue_certificate`, 本人通知, 交付履歴照会, 認証者設定); the
  commands they take (`PersonRef`, `RegisterHonninTsuuchi`, `SetCertifier`) are the register's,
  from `kikan.residents.service.commands`, and re-exported here.
"""

from kikan.residents.certificates.rules import Requester, catalogue
from kikan.residents.certificates.service import (
    CertificateRefused,
    CertificateRequest,
    IssuedCertificate,
    end_honnin_tsuuchi,
    honnin_notices,
    issuance_history,
    issue_certificate,
    register_honnin_tsuuchi,
    set_certifier,
)
from kikan.residents.service.commands import PersonRef, RegisterHonninTsuuchi, SetCertifier

__all__ = [
    "CertificateRefused",
    "CertificateRequest",
    "IssuedCertificate",
    "PersonRef",
    "RegisterHonninTsuuchi",
    "Requester",
    "SetCertifier",
    "catalogue",
    "end_honnin_tsuuchi",
    "honnin_notices",
    "issuance_history",
    "issue_certificate",
    "register_honnin_tsuuchi",
    "set_certifier",
]
