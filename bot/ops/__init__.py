"""Operations: doctor's checks, reports, personal data (export, forget, retention), the push
API's service."""
