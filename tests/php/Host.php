<?php

declare(strict_types=1);

namespace Stask\Tests;

use Seiger\sTask\Facades\sTask;

/**
 * State behind the host helpers in bootstrap.php; TestCase resets it for
 * every test.
 */
final class Host
{
    /** What storage_path() returns (the CMS's storage/ folder). */
    public static string $storage = '';

    /** What evo()->getLoginUserID() returns; null = nobody logged in. */
    public static ?int $userId = 7;

    public static function evo(): object
    {
        return new class () {
            public function getLoginUserID(string $context = 'mgr'): int|false
            {
                return Host::$userId ?? false;
            }

            /** The markers the package publishes in config/sTaskCheck.php. */
            public function getConfig(string $key, $default = null)
            {
                return match ($key) {
                    'check_sTask' => true,
                    'sTaskVer' => sTask::version(),
                    default => $default,
                };
            }
        };
    }
}
