"""Throw-away RSA keys for tests and demos of the Kalshi signing path — NEVER real credentials.

``FIXED_TEST_PRIVATE_KEY_PEM`` is a published, TEST-ONLY key: it exists so signature tests
have a deterministic key without paying for key generation. It authenticates nothing
anywhere. :func:`generate_test_key` makes a fresh 2048-bit key once per process (key
generation takes ~0.1-1 s; it is cached).
"""

from __future__ import annotations

import functools

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = [
    "FIXED_TEST_KEY_ID",
    "FIXED_TEST_PRIVATE_KEY_PEM",
    "TEST_KEY_ID",
    "generate_test_key",
    "generate_test_key_pem",
]

TEST_KEY_ID = "arbees-test-key-id"
FIXED_TEST_KEY_ID = "arbees-fixed-test-key-id"

# TEST-ONLY key, committed on purpose. Do not use it for anything real.
FIXED_TEST_PRIVATE_KEY_PEM = """\
-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCMFPgRg+GuzjCl
m9aEDAK1xbYXEO+CF3jL0CUJau1Howa7lGXbRUgDbTwuhTHex14c87e+U6Ymxbp6
NLJL1euKHpvmurn69DJNB8UNXCYuO7jIKMw0kYi+Ifdu8dzjkx0SCljny4nF2gGU
7sH6qbn8WcUnIZD3iAJINr/2aj5wAKNigXe5iapYaHMMbqmPlVlxmD2QOt0Wf7j1
Ow3SZ5Ti36MqkIK36glCaQGT9wGNigd5g0Jd4YZDNvXJ8mvrXGZXdMIuwiv/Hro8
6XVj8ooKtnYLceqe63L1iMSzXyaH5EFUvK2Ydm4Sr4iH8cjDqjJ3d1E7R65W/SET
RAyWC0F9AgMBAAECggEAFsaMBNED/xdwKmT5jlOjlylTr1FmF6k4Ty8C7pKPjL+x
Zws8Olf72u7GQ6wNTTLuFtf7bnsMPy6T4K2ztYfM+ZJ7d5qxhV9x1DtoqwDqBkdY
hla3yO5GpN9B6yxw5SF0rwu2o81gk6Yb7rqZGGfDIQf5eaDIAK8A6/vW3zor96qt
UZSSUz3dh2Nnidkxu2QtoXDuAwAwBljYpuLdLyh6i8zZOiDWz3pNM1ZFmkygNqMo
hJRzcBAL8xg9imushFnokOVauSDDgJLua/RDfd6qfrtIgCQqdGKzUSqhe7dTwXkn
vFHSMyU48JwV21+a0x8ravweHp2n+Y7anO2YtNrLwwKBgQC9kYwd6vw9ld2dtHHr
c8AwaYhZLlgvat7R3LxPt94Klw5BEMHsNDXp64t93ogV0Kiiy3KnRPWorN8dXGam
b2DtgTtMR0d8oHzUEEhsbDaOVcNo4Xr4gtjQMEIf7ZBaA6LvAzrs0PyuSXFWRkRb
IOe3oNJWzKYNBLBajSEGNspC3wKBgQC9K+iC+npUkpDRQNuDjq/ifaPEn27gZhEZ
pqndtU2qJZWbpEAVkFmjsMezeySM+e5yfRo0FtTfirwD2XlMLkNC22RLZ3YnNgT9
r4mixgXBddc2c/VGEHcFIf2B6nZ1hr5whMNdghGcL1NBUkF3a6uPE3Bx2wa2vBlJ
FPYYOVSDIwKBgQCYNhu5kgrDMGhnzpGCKsjwlmwin3GzcS5Ed+bEY7Bn9G4/lEMB
c9KuZrD0eg/u5EHjpVQENvzBWT01CBJsJRZA3flNABbIXNyeMgzU8fbERtzGg/YH
QJjyYS1XEZtMi4ryOze/GvcowlO8oGMWgM9NxFXf2CakYVVw/8y6fpfdJQKBgDDn
Hu5tLh6a3REbQSQbSOC2NhXoWVNtT1JgQV1tNyybFrfrmB16+ZFVa+q8FNDU841p
RdLdbB510PD10WOeOgkYii7sCiFM17F1JZGMu4QtoHsVMvzv2LTc+poRMJplQOn5
iD+uFjtYCJ/EUeQ7U1hjYBgu1Od8bNT1tEDC4VQdAoGBAJ5qqMgu9BvnN9NchudW
BdNmHI+ImGxbp1fGerOlwrXJS/+ztc0QCvr8qSUZYtwRJVbAu7ce+1Fb6zWrVFGw
dSJcjeTeHMxgaWZYRBWcrRF17rrmpZFCz4fEOjQ+vDYY7VqPg+usqtpNptPt3NNZ
YIvRVJ1VxTBbbOblIQZv8Pns
-----END PRIVATE KEY-----
"""


@functools.cache
def generate_test_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key, generated once per process."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def generate_test_key_pem() -> str:
    """PEM (PKCS#8, unencrypted) text of :func:`generate_test_key`."""
    return (
        generate_test_key()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode("ascii")
    )
