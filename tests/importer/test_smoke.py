from players.models import Activity, Player


def test_activity_csv(run_import):
    content = (
        "TxID,Player ID,Type,Amount,Currency,Date\n"
        "t1,p1,deposit,100.00,EUR,2026-01-02T10:00:00Z\n"
        "t2,p1,bet,10,EUR,2026-01-02\n"
        "t3,p2,Bet,5.5,EUR,1/3/2026\n"
    ).encode()
    job = run_import(content, kind="activity")
    assert job.status == "succeeded", (job.error_code, job.message, job.errors)
    assert Activity.objects.count() == 3
    assert Player.objects.count() == 2
