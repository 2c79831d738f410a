"""Drive examples/fakeserver with pypsrp 0.9 (an independent PSRP client
written against real Windows servers): open a pool, run a pipeline,
disconnect while a pipeline runs, enumerate from a new client, connect
and collect the output.

    PSREMOTING_PASSWORD=demo-pw go run ./examples/fakeserver -addr 127.0.0.1:5985 -user demo -allow-unencrypted &
    pip install pypsrp==0.9.1
    python3 examples/fakeserver/interop/pypsrp_flow.py 127.0.0.1 5985 demo demo-pw

Only Basic authentication is used (NTLM through pypsrp needs pyspnego), so
the server needs -allow-unencrypted: like a default Windows server, it
refuses Basic over plain HTTP otherwise.
"""
import sys
import time

from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def connection():
    return WSMan(host, port=port, username=user, password=password, ssl=False, auth="basic",
                 encryption="never", operation_timeout=5, read_timeout=10)


with RunspacePool(connection()) as pool:
    ps = PowerShell(pool)
    ps.add_script('Write-Output "hello from the fake server"; 1..3 | ForEach-Object { "Return $_" }')
    print("invoke:", ps.invoke(), "had_errors:", ps.had_errors)

first = RunspacePool(connection())
first.open()
ps = PowerShell(first)
ps.add_script('1..5 | ForEach-Object { "item $_"; Start-Sleep -Milliseconds 300 }')
ps.begin_invoke()
first.disconnect()
time.sleep(2)  # output is buffered on the server meanwhile

pools = RunspacePool.get_runspace_pools(connection())  # a new client (new SessionId)
pool = [p for p in pools if p.id.upper() == first.id.upper()][0]
pool.connect()
for dps in pool.create_disconnected_power_shells():
    print("connected pipeline output:", dps.connect())
pool.close()
