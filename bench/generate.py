#!/usr/bin/env python3
"""Synthetic data of real size for the benchmarks: regions of one province and N persons.

Usage: generate.py persons N OUT_REGIONS_CSV OUT_PERSONS_CSV
       generate.py regions OUT_REGIONS_CSV
Resident IDs are valid (GB 11643 check character) and unique; households hold 1-4 people.
"""
import random
import sys

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def check_char(first17):
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def regions(counties=20, townships=12, villages=20):
    """A province (32), one city, `counties` counties, each with townships and villages."""
    rows = [("320000000000", "江苏省"), ("320300000000", "徐州市")]
    villages_out = []
    for c in range(1, counties + 1):
        county = f"3203{c:02d}"
        rows.append((county + "000000", f"县{c}"))
        for t in range(1, townships + 1):
            township = f"{county}{100 + t:03d}"
            rows.append((township + "000", f"镇{c}-{t}"))
            for v in range(1, villages + 1):
                code = f"{township}{200 + v:03d}"
                rows.append((code, f"村{c}-{t}-{v}"))
                villages_out.append(code)
    return rows, villages_out


def main():
    if sys.argv[1] == "regions":
        rows, _ = regions()
        with open(sys.argv[2], "w", encoding="utf-8") as out:
            out.write("code,name\n")
            for code, name in rows:
                out.write(f"{code},{name}\n")
        return
    _, kind, n, regions_path, persons_path = sys.argv
    assert kind == "persons"
    n = int(n)
    rng = random.Random(2026)
    region_rows, villages = regions()
    with open(regions_path, "w", encoding="utf-8") as out:
        out.write("code,name\n")
        for code, name in region_rows:
            out.write(f"{code},{name}\n")
    categories = ["poverty-alleviated", "monitored", "low-income", "other"]
    capacities = ["full", "weak", "half", "none"]
    surnames = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
    given = ["秀英", "桂兰", "建国", "玉兰", "志强", "凤英", "德胜", "春梅", "保山", "金花"]
    with open(persons_path, "w", encoding="utf-8") as out:
        out.write("id_number,name,household_id,village_code,category,labour_capacity,bank_account,phone\n")
        household = 0
        left_in_household = 0
        village = villages[0]
        for i in range(n):
            if left_in_household == 0:
                household += 1
                left_in_household = rng.randint(1, 4)
                village = villages[rng.randrange(len(villages))]
            left_in_household -= 1
            # Unique IDs: a sequence spread over birth dates 1950-2005 and the 3-digit order code.
            day = i // 1000
            year = 1950 + day // 336
            month = 1 + (day // 28) % 12
            dom = 1 + day % 28
            first17 = f"{village[:6]}{year:04d}{month:02d}{dom:02d}{i % 1000:03d}"
            pid = first17 + check_char(first17)
            name = surnames[i % len(surnames)] + given[(i // 7) % len(given)]
            account = f"6228{i:012d}"
            out.write(f"{pid},{name},H{household:08d},{village},{categories[i % 4]},{capacities[(i // 3) % 4]},{account},1385{i % 10000000:07d}\n")


if __name__ == "__main__":
    main()
