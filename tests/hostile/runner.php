<?php

/**
 * Child process of tests/php/HostileCatalogueTest.php (and of a hand run):
 * configures the extension as the context file says, runs the given rows of
 * catalogue.php and prints one JSON line per row as soon as it is done, so
 * the parent knows which row a crash interrupted.
 *
 *   php -d extension=… tests/hostile/runner.php <context.json> <row indexes, comma separated>
 */

declare(strict_types=1);

use Seiger\sTask\Facades\sTask;
use Stask\Hostile\Hostile;

require __DIR__ . '/../../php/autoload.php';
require __DIR__ . '/../../examples/autoload.php';
require __DIR__ . '/Hostile.php';

$context = json_decode((string) file_get_contents($argv[1]), true, 512, JSON_THROW_ON_ERROR);
$rows = require __DIR__ . '/catalogue.php';
sTask::configure($context['connection'] + ['api_token' => Hostile::TOKEN]);
$h = new Hostile($context['fixtures'] + ['connection' => $context['connection'] + ['api_token' => Hostile::TOKEN]]);

/** What a row produced, as text the expectations are matched against. */
function outcome(mixed $value): array
{
    if (is_array($value) && isset($value['status'], $value['headers']) && is_int($value['status'])) {
        $headers = '';
        foreach ((array) $value['headers'] as $name => $v) {
            foreach ((array) $v as $one) {
                $headers .= $name . ': ' . $one . "\n";
            }
        }

        return ['kind' => 'http', 'status' => $value['status'], 'text' => $headers . "\n" . ($value['body'] ?? '[file]')];
    }
    $text = json_encode($value, JSON_PARTIAL_OUTPUT_ON_ERROR | JSON_INVALID_UTF8_SUBSTITUTE | JSON_UNESCAPED_SLASHES);

    return ['kind' => 'return', 'text' => is_object($value) ? get_class($value) . ' ' . $text : (string) $text];
}

foreach (explode(',', $argv[2]) as $i) {
    $row = $rows[(int) $i];
    try {
        $result = outcome(($row['run'])($h));
    } catch (\Throwable $e) {
        $class = get_class($e);
        $result = ['kind' => 'throw', 'class' => substr($class, (int) strrpos('\\' . $class, '\\')), 'full' => $class, 'text' => $e->getMessage()];
    }
    // Every row leaves the database usable: the tables still answer.
    try {
        sTask::configure($context['connection'] + ['api_token' => Hostile::TOKEN]);
        $result['tables'] = \Seiger\sTask\Models\sTaskModel::query()->count() >= 0;
    } catch (\Throwable $e) {
        $result['tables'] = false;
        $result['tables_error'] = $e->getMessage();
    }
    $result['i'] = (int) $i;
    echo json_encode($result, JSON_INVALID_UTF8_SUBSTITUTE | JSON_UNESCAPED_SLASHES | JSON_PARTIAL_OUTPUT_ON_ERROR), "\n";
    flush();
}
