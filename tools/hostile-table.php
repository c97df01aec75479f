<?php

/**
 * Prints the catalogue of hostile inputs (tests/hostile/catalogue.php) as the
 * Markdown table of docs/security.md; with --write, replaces the table
 * between the hostile-catalogue markers there. Needs no extension: the rows'
 * code is not run. tests/php/HostileCatalogueTest.php checks they agree.
 *
 *   php tools/hostile-table.php [--write]
 */

declare(strict_types=1);

$rows = require __DIR__ . '/../tests/hostile/catalogue.php';

$cell = static fn (string $s): string => str_replace(['|', "\n"], ['\\|', ' '], $s);
$out = "| # | id | surface | input | expected | message contains |\n| --- | --- | --- | --- | --- | --- |\n";
foreach ($rows as $i => $row) {
    $expect = is_int($row['expect']) ? (string) $row['expect'] : ($row['expect'] === 'ok' ? 'returns' : '`' . $row['expect'] . '`');
    $message = $row['message'] === '' ? '' : '`' . str_replace('`', "'", $row['message']) . '`';
    if ($row['absent'] !== []) {
        $message .= ($message === '' ? '' : '; ') . 'never ' . implode(', ', array_map(static fn ($a) => '`' . trim(json_encode($a, JSON_UNESCAPED_SLASHES), '"') . '`', $row['absent']));
    }
    $out .= sprintf("| %d | %s | %s | %s | %s | %s |\n", $i + 1, $row['id'], $cell($row['surface']), $cell($row['input']), $expect, $cell($message));
}

if (in_array('--write', $argv, true)) {
    $file = __DIR__ . '/../docs/security.md';
    $doc = (string) file_get_contents($file);
    $new = preg_replace_callback(
        '/(<!-- hostile-catalogue:start -->\n).*(<!-- hostile-catalogue:end -->)/s',
        static fn (array $m): string => $m[1] . $out . $m[2],
        $doc,
        1,
        $count
    );
    if ($count !== 1) {
        fwrite(STDERR, "docs/security.md has no hostile-catalogue markers\n");
        exit(1);
    }
    file_put_contents($file, $new);
    exit(0);
}
echo $out;
