<?php

declare(strict_types=1);

namespace Stask\Tests;

use Carbon\Carbon;
use Examples\Workers\EmailCampaignWorker;
use Examples\Workers\ProductSyncWorker;
use Examples\Workers\ProductWorker;
use Seiger\sTask\Facades\sTask;
use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Models\sWorker;
use Seiger\sTask\Workers\BaseWorker;

/** A worker the seed deactivates by name ("old_import"). */
final class OldImportWorker extends BaseWorker
{
    public function identifier(): string
    {
        return 'old_import';
    }

    public function taskImport(sTaskModel $task, array $options = []): void
    {
    }
}

/** Runs the seed's "Check Task Status" snippet from inside a running task. */
final class StatusProbeWorker extends BaseWorker
{
    public static string $seen = '';

    public function identifier(): string
    {
        return 'status_probe';
    }

    public function taskProbe(sTaskModel $task, array $options = []): void
    {
        $this->pushProgress($task, ['progress' => 45, 'message' => 'Processing items...']);
        ob_start();
        // --- seed: Quick Start, 2. Check Task Status (running branch) -----
        $task = \Seiger\sTask\Models\sTaskModel::find(1);

        if ($task->isRunning()) {
            echo "Task is currently executing\n";
            echo "Progress: {$task->progress}%\n";
        }
        // --------------------------------------------------------------------
        self::$seen = (string) ob_get_clean();
    }
}

/** Implements only TaskInterface, as the troubleshooting section shows. */
final class InterfaceOnlyWorker implements \Seiger\sTask\Contracts\TaskInterface
{
    public static int $runs = 0;

    public function identifier(): string
    {
        return 'interface_only';
    }

    public function scope(): string
    {
        return 'tests';
    }

    public function icon(): string
    {
        return '<i class="fa fa-plug"></i>';
    }

    public function title(): string
    {
        return 'Interface only';
    }

    public function description(): string
    {
        return 'Implements TaskInterface without BaseWorker.';
    }

    public function renderWidget(): string
    {
        return '';
    }

    public function settings(): array
    {
        return [];
    }

    public function taskPing(sTaskModel $task, array $options = []): void
    {
        self::$runs++;
    }
}

/**
 * Every PHP snippet of seed/getting-started.md, pasted as written (only file
 * paths adapted), with assertions on what it really did: rows, statuses,
 * files and the text it echoed.
 */
final class SeedSnippetsTest extends TestCase
{
    private function productsCsv(): string
    {
        // The example workers read only files uploaded to sTask (storage/stask/uploads).
        return $this->csv($this->staskStorage . '/uploads/products.csv', [
            ['sku', 'name', 'price', 'stock'],
            ['A-1', 'Chair', '10.50', '3'],
            ['A-2', 'Table', '99.00', '1'],
            ['A-3', 'Lamp', '15.00', '12'],
        ]);
    }

    /** Quick Start 1, with the CSV path pointing at a real fixture. */
    private function createFirstTask(string $file): string
    {
        return $this->output(function () use ($file): void {
            // Create a simple task
            $task = sTask::create(
                identifier: 'product_sync',  // Worker identifier
                action: 'import',             // Action to perform
                data: [                        // Task data
                    'file' => $file,
                    'delimiter' => ',',
                    'skip_first_row' => true
                ],
                priority: 'normal',           // 'low', 'normal', 'high'
                userId: evo()->getLoginUserID()
            );

            echo "Task #{$task->id} created successfully!\n";
        });
    }

    /** Quick Start 2, verbatim. */
    private function checkTaskStatus(): string
    {
        return $this->output(function (): void {
            // Get task by ID
            $task = \Seiger\sTask\Models\sTaskModel::find(1);

            // Check status
            if ($task->isPending()) {
                echo "Task is waiting to be processed\n";
            }

            if ($task->isRunning()) {
                echo "Task is currently executing\n";
                echo "Progress: {$task->progress}%\n";
            }

            if ($task->isFinished()) {
                echo "Task is completed\n";
                echo "Status: {$task->status_text}\n";
                echo "Message: {$task->message}\n";
            }

            // Get detailed information
            echo "Worker: {$task->identifier}\n";
            echo "Action: {$task->action}\n";
            echo "Created: {$task->created_at}\n";
            echo "Started by: User #{$task->started_by}\n";
        });
    }

    // ------------------------------------------------------------ Quick Start

    public function testQuickStartCreateStoresAPendingTaskWithItsData(): void
    {
        $file = $this->productsCsv();

        $this->assertSame("Task #1 created successfully!\n", $this->createFirstTask($file));

        $task = $this->task(1);
        $this->assertSame('product_sync', $task->identifier);
        $this->assertSame('import', $task->action);
        $this->assertSame(sTaskModel::TASK_STATUS_PENDING, $task->status);
        $this->assertSame('normal', $task->priority);
        $this->assertSame(7, $task->started_by);
        $this->assertSame(['file' => $file, 'delimiter' => ',', 'skip_first_row' => true], $task->meta);
        $this->assertSame(0, $task->progress);
        $this->assertSame(0, $task->attempts);
        $this->assertSame(3, $task->max_attempts);
    }

    public function testQuickStartCheckStatusDescribesAPendingTask(): void
    {
        $this->createFirstTask($this->productsCsv());

        $out = $this->checkTaskStatus();

        $created = (string) $this->task(1)->created_at;
        $this->assertMatchesRegularExpression('/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/', $created);
        $this->assertSame(
            "Task is waiting to be processed\n"
            . "Worker: product_sync\n"
            . "Action: import\n"
            . "Created: {$created}\n"
            . "Started by: User #7\n",
            $out
        );
    }

    public function testQuickStartCheckStatusDescribesACompletedTask(): void
    {
        $this->activeWorker(ProductSyncWorker::class);
        $this->createFirstTask($this->productsCsv());
        sTask::processPendingTasks();

        $out = $this->checkTaskStatus();

        $this->assertStringStartsWith(
            "Task is completed\nStatus: completed\nMessage: Synced 3 products (0 skipped)\nWorker: product_sync\n",
            $out
        );
        $this->assertStringNotContainsString('waiting', $out);
    }

    public function testQuickStartCheckStatusDescribesARunningTask(): void
    {
        $this->activeWorker(StatusProbeWorker::class);
        StatusProbeWorker::$seen = '';
        sTask::create('status_probe', 'probe');

        sTask::processPendingTasks();

        $this->assertSame("Task is currently executing\nProgress: 45%\n", StatusProbeWorker::$seen);
        $this->assertTrue($this->task(1)->isFinished());
    }

    public function testQuickStartProcessPendingTasksRunsThemAndCountsThem(): void
    {
        $this->activeWorker(ProductSyncWorker::class);
        $this->createFirstTask($this->productsCsv());

        $out = $this->output(function (): void {
            // Process all pending tasks
            $processedCount = sTask::processPendingTasks();
            echo "Processed {$processedCount} tasks\n";
        });

        $this->assertSame("Processed 1 tasks\n", $out);
        $task = $this->task(1);
        $this->assertSame(sTaskModel::TASK_STATUS_COMPLETED, $task->status);
        $this->assertSame(100, $task->progress);
        $this->assertSame(1, $task->attempts);
        $this->assertNotNull($task->finished_at);
    }

    /**
     * "Process all pending tasks": the batch size is how many are claimed
     * at a time, not a cap on the call (the engine's documented choice).
     */
    public function testQuickStartProcessPendingTasksWithABatchSizeStillProcessesEveryDueTask(): void
    {
        $this->activeWorker(ProductWorker::class);
        for ($i = 0; $i < 7; $i++) {
            sTask::create('product', 'import', ['rows' => 2]);
        }

        // Or process with custom batch size
        $processedCount = sTask::processPendingTasks(batchSize: 5);

        $this->assertSame(7, $processedCount);
        $this->assertSame(7, sTaskModel::completed()->count());
        $this->assertSame(0, sTaskModel::pending()->count());
    }

    // ------------------------------------------------------- Basic examples

    public function testExample1QueuesAHighPriorityImportThatTheWorkerCompletes(): void
    {
        $this->activeWorker(ProductWorker::class);
        $this->csv(storage_path('stask/uploads/products_2025.csv'), [
            ['id', 'sku', 'name'],
            ['', 'N-1', 'New product'],
            ['12', 'S-12', 'Existing product'],
        ]);

        $out = $this->output(function (): void {
            // Create import task
            $task = sTask::create(
                identifier: 'product',
                action: 'import',
                data: [
                    'file' => storage_path('stask/uploads/products_2025.csv'),
                    'update_existing' => true,
                    'create_new' => true
                ],
                priority: 'high'
            );

            echo "Import task created: #{$task->id}\n";

            // Task will be processed automatically by worker
            // You can monitor progress in admin interface
        });

        $this->assertSame("Import task created: #1\n", $out);
        $task = $this->task(1);
        $this->assertSame('high', $task->priority);
        $this->assertNull($task->started_by);
        $this->assertTrue($task->isPending());

        sTask::processPendingTasks();

        $task = $this->task(1);
        $this->assertSame('completed', $task->status_text);
        $this->assertSame(
            ['source' => storage_path('stask/uploads/products_2025.csv'), 'rows' => 2, 'created' => 1, 'updated' => 1],
            $task->result
        );
        $snapshot = $this->snapshot(1);
        $this->assertSame(2, $snapshot['processed']);
        $this->assertSame(2, $snapshot['total']);
    }

    /** Example 2 with the task processed first, so its wait loop ends. */
    private function runExample2(): string
    {
        return $this->output(function (): void {
            // Create export task
            $task = sTask::create(
                identifier: 'product',
                action: 'export',
                data: [
                    'format' => 'csv',
                    'filters' => [
                        'category_id' => 5,
                        'active' => true
                    ],
                    'fields' => ['id', 'sku', 'name', 'price', 'stock']
                ],
                priority: 'normal'
            );

            sTask::processPendingTasks(); // the cron tick the seed waits for

            // Wait for completion (in real scenario, check via admin or API)
            while (!$task->fresh()->isFinished()) {
                sleep(1);
            }

            if ($task->status === 30) { // completed
                echo "Export completed!\n";
                echo "Download file: {$task->result}\n";
            }
        });
    }

    public function testExample2ExportWritesTheFilteredCsvAndStoresItsPath(): void
    {
        $this->activeWorker(ProductWorker::class);

        $this->runExample2();

        $task = $this->task(1);
        $this->assertSame(sTaskModel::TASK_STATUS_COMPLETED, $task->status);
        $this->assertSame(100, $task->progress);
        $this->assertSame('Exported 8 products', $task->message);
        $this->assertSame(storage_path('stask/exports/products_1.csv'), $task->result);
        $lines = file($task->result, FILE_IGNORE_NEW_LINES);
        $this->assertSame('id,sku,name,price,stock', $lines[0]);
        $this->assertSame('4,SKU-0004,"Product 4",13.99,28', $lines[1]);
        $this->assertCount(9, $lines, 'category 5 holds ids 4, 9, ... 49; 14 and 49 are inactive');
    }

    /**
     * The seed reads `$task->status` on the object it created, not on the
     * fresh copy; the user expects the download line to be printed.
     */
    public function testExample2PrintsTheDownloadPathOnceTheExportCompleted(): void
    {
        $this->activeWorker(ProductWorker::class);

        $out = $this->runExample2();

        $this->assertSame(
            "Export completed!\nDownload file: " . storage_path('stask/exports/products_1.csv') . "\n",
            $out
        );
    }

    public function testExample3SendsTheCampaignToEveryRecipient(): void
    {
        $this->activeWorker(EmailCampaignWorker::class);
        mkdir(storage_path('stask/uploads'));
        file_put_contents(storage_path('stask/uploads/january_2025.pdf'), '%PDF-1.4');

        // Create email task
        $task = sTask::create(
            identifier: 'email_campaign',
            action: 'send',
            data: [
                'template' => 'newsletter_2025',
                'recipients' => [
                    ['email' => 'user1@example.com', 'name' => 'John Doe'],
                    ['email' => 'user2@example.com', 'name' => 'Jane Smith'],
                    // ... more recipients
                ],
                'subject' => 'Monthly Newsletter - January 2025',
                'attachments' => [
                    storage_path('stask/uploads/january_2025.pdf')
                ]
            ],
            priority: 'normal'
        );

        $this->assertTrue($task->isPending());
        sTask::processPendingTasks();

        $task = $task->fresh();
        $this->assertSame('completed', $task->status_text);
        $this->assertSame('Sent 2 of 2 e-mails', $task->message);
        $this->assertSame(2, $task->result['sent']);
        $this->assertSame([], $task->result['invalid']);
        $outbox = (string) file_get_contents($task->result['outbox']);
        $this->assertStringContainsString("To: John Doe <user1@example.com>\nSubject: Monthly Newsletter - January 2025", $outbox);
        $this->assertStringContainsString('To: Jane Smith <user2@example.com>', $outbox);
        $snapshot = $this->snapshot($task->id);
        $this->assertSame([2, 2], [$snapshot['processed'], $snapshot['total']]);
    }

    public function testExample4SchedulesACleanupThatWaitsForItsTime(): void
    {
        Carbon::setTestNow(Carbon::now()->startOfSecond());
        $expected = now()->addHours(2);

        $out = $this->output(function (): void {
            // Create cleanup task scheduled for later
            $task = \Seiger\sTask\Models\sTaskModel::create([
                'identifier' => 'system',
                'action' => 'cleanup',
                'status' => 10, // pending
                'priority' => 'low',
                'start_at' => now()->addHours(2), // Run in 2 hours
                'meta' => [
                    'clean_cache' => true,
                    'older_than_days' => 30
                ]
            ]);

            echo "Cleanup scheduled for: {$task->start_at}\n";
        });

        $this->assertSame("Cleanup scheduled for: {$expected->format('Y-m-d H:i:s')}\n", $out);
        $task = $this->task(1);
        $this->assertSame('low', $task->priority);
        $this->assertSame(['clean_cache' => true, 'older_than_days' => 30], $task->meta);
        $this->assertSame($expected->getTimestamp(), $task->start_at->getTimestamp());

        $this->assertSame(0, sTask::processPendingTasks());
        $this->assertTrue($this->task(1)->isPending(), 'a task scheduled in two hours must not run now');
    }

    public function testExample4CleanupRunsOnceItIsDue(): void
    {
        $old = sTask::create('product', 'import');
        $old->markAsFinished('done long ago');
        $old->update(['finished_at' => now()->subDays(40)]);
        $recent = sTask::create('product', 'import');
        $recent->markAsFinished('done today');

        \Seiger\sTask\Models\sTaskModel::create([
            'identifier' => 'system',
            'action' => 'cleanup',
            'status' => 10,
            'priority' => 'low',
            'start_at' => now()->subMinute(),
            'meta' => ['clean_cache' => true, 'older_than_days' => 30],
        ]);

        $this->assertSame(1, sTask::processPendingTasks());

        $this->assertNull(sTaskModel::find($old->id), 'the 40-day-old completed task is cleaned');
        $this->assertNotNull(sTaskModel::find($recent->id));
        $cleanup = $this->task(3);
        $this->assertSame('completed', $cleanup->status_text);
        $this->assertNotEmpty($cleanup->result);
    }

    // ----------------------------------------------------- Worker management

    /**
     * A Composer layout under base_path, in the format Composer writes:
     * vendor/composer/autoload_psr4.php maps Examples\Workers\ to
     * examples/workers, Acme\Invoices\ to a package holding a worker no
     * test declares, and an excluded namespace (Illuminate\) to a worker
     * that must never be loaded. Returns the PSR-4 map.
     */
    private function composerBasePath(): array
    {
        $vendor = $this->root . '/vendor';
        mkdir($vendor . '/composer', 0775, true);
        mkdir($vendor . '/acme/invoices/src', 0775, true);
        mkdir($vendor . '/laravel/fixture/src', 0775, true);
        $worker = <<<'PHP'
<?php

namespace %s;

use Seiger\sTask\Models\sTaskModel;
use Seiger\sTask\Workers\BaseWorker;

class %s extends BaseWorker
{
    public function identifier(): string
    {
        return '%s';
    }

    public function scope(): string
    {
        return 'acme';
    }

    public function taskSend(sTaskModel $task, array $options = []): void
    {
    }
}

PHP;
        file_put_contents($vendor . '/acme/invoices/src/InvoiceWorker.php', sprintf($worker, 'Acme\\Invoices', 'InvoiceWorker', 'acme_invoices'));
        file_put_contents($vendor . '/acme/invoices/src/Helper.php', "<?php\n\nnamespace Acme\\Invoices;\n\nclass Helper\n{\n}\n");
        file_put_contents($vendor . '/laravel/fixture/src/HiddenWorker.php', sprintf($worker, 'Illuminate\\StaskFixture', 'HiddenWorker', 'illuminate_hidden'));
        $examples = var_export(realpath(__DIR__ . '/../../examples/workers'), true);
        file_put_contents($vendor . '/composer/autoload_psr4.php', <<<PHP
<?php

// autoload_psr4.php @generated by Composer

\$vendorDir = dirname(__DIR__);
\$baseDir = dirname(\$vendorDir);

return array(
    'Illuminate\\\\StaskFixture\\\\' => array(\$vendorDir . '/laravel/fixture/src'),
    'Examples\\\\Workers\\\\' => array({$examples}),
    'Acme\\\\Invoices\\\\' => array(\$vendorDir . '/acme/invoices/src'),
);

PHP);
        file_put_contents($vendor . '/composer/autoload_classmap.php', <<<'PHP'
<?php

// autoload_classmap.php @generated by Composer

$vendorDir = dirname(__DIR__);
$baseDir = dirname($vendorDir);

return array(
    'Composer\\InstalledVersions' => $vendorDir . '/composer/InstalledVersions.php',
);

PHP);

        return require $vendor . '/composer/autoload_psr4.php';
    }

    /** What the host's vendor/autoload.php does: a PSR-4 loader over $map. */
    private function withComposerAutoloader(array $map, callable $code): void
    {
        $loader = static function (string $class) use ($map): void {
            foreach ($map as $prefix => $dirs) {
                if (strncmp($class, $prefix, strlen($prefix)) === 0) {
                    foreach ($dirs as $dir) {
                        $file = $dir . '/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
                        if (is_file($file)) {
                            require $file;

                            return;
                        }
                    }
                }
            }
        };
        spl_autoload_register($loader);
        try {
            $code();
        } finally {
            spl_autoload_unregister($loader);
        }
    }

    public function testDiscoverWorkersRegistersTheExampleWorkersInactive(): void
    {
        $this->composerBasePath();

        $out = $this->output(function (): void {
            // Discover and register new workers
            $registered = sTask::discoverWorkers();

            echo "Found and registered " . count($registered) . " new workers:\n";
            foreach ($registered as $worker) {
                echo "- {$worker->identifier} ({$worker->scope})\n";
            }
        });

        $count = sWorker::query()->count();
        $this->assertStringStartsWith("Found and registered {$count} new workers:\n", $out);
        $this->assertStringContainsString("- product (scommerce)\n", $out);
        $this->assertStringContainsString("- product_sync (scommerce)\n", $out);
        $this->assertStringContainsString("- email_campaign (newsletter)\n", $out);
        $product = sWorker::where('identifier', 'product')->first();
        $this->assertSame(ProductWorker::class, $product->class);
        $this->assertFalse($product->active, 'discovered workers start inactive');

        $again = $this->output(function (): void {
            $registered = sTask::discoverWorkers();
            echo "Found and registered " . count($registered) . " new workers:\n";
        });
        $this->assertSame("Found and registered 0 new workers:\n", $again);
        $this->assertSame($count, sWorker::query()->count());
    }

    public function testDiscoverWorkersFindsWorkersOnlyComposerKnows(): void
    {
        $map = $this->composerBasePath();
        $this->assertFalse(class_exists('Acme\\Invoices\\InvoiceWorker', false), 'no test declares the Acme worker');

        $this->withComposerAutoloader($map, function (): void {
            $registered = sTask::discoverWorkers();
            $identifiers = array_map(static fn ($w): string => $w->identifier, $registered);

            $this->assertContains('acme_invoices', $identifiers);
            $this->assertNotContains('illuminate_hidden', $identifiers);
        });

        $acme = sTask::getWorker('acme_invoices');
        $this->assertSame('Acme\\Invoices\\InvoiceWorker', $acme->class);
        $this->assertSame('acme', $acme->scope);
        $this->assertFalse($acme->active);
        $this->assertNull(sTask::getWorker('illuminate_hidden'));
        $this->assertFalse(class_exists('Illuminate\\StaskFixture\\HiddenWorker', false), 'excluded namespaces are not even loaded');
    }

    public function testRescanWorkersRefreshesChangedMetadataOnly(): void
    {
        sTask::registerWorker(ProductWorker::class);
        sTask::registerWorker(EmailCampaignWorker::class);

        $rescan = function (): void {
            // Update metadata for existing workers
            $updated = sTask::rescanWorkers();

            echo "Updated " . count($updated) . " workers\n";
        };

        $this->assertSame("Updated 0 workers\n", $this->output($rescan));

        sWorker::where('identifier', 'product')->update(['scope' => 'legacy']);
        $this->assertSame("Updated 1 workers\n", $this->output($rescan));
        $this->assertSame('scommerce', sTask::getWorker('product')->scope);
    }

    public function testCleanOrphanedWorkersRemovesRowsWhoseClassIsGoneAndKeepsTheirTasks(): void
    {
        sTask::registerWorker(ProductWorker::class);
        sTask::registerWorker(EmailCampaignWorker::class);
        $this->orphanWorker('email_campaign', 'Gone\\Workers\\RemovedWorker');
        sTask::create('email_campaign', 'send');

        $out = $this->output(function (): void {
            // Remove workers whose classes no longer exist
            $deleted = sTask::cleanOrphanedWorkers();

            echo "Removed {$deleted} orphaned workers\n";
        });

        $this->assertSame("Removed 1 orphaned workers\n", $out);
        $this->assertNull(sTask::getWorker('email_campaign'));
        $this->assertNotNull(sTask::getWorker('product'));
        $this->assertSame(1, sTaskModel::byIdentifier('email_campaign')->count());
    }

    public function testListAllWorkersPrintsEveryWorkerInOrder(): void
    {
        sTask::registerWorker(ProductWorker::class);
        sTask::registerWorker(EmailCampaignWorker::class);
        sTask::activateWorker('product');

        $out = $this->output(function (): void {
            // Get all workers
            $allWorkers = sTask::getWorkers(activeOnly: false);

            echo "Total workers: " . $allWorkers->count() . "\n\n";

            foreach ($allWorkers as $worker) {
                echo "Worker: {$worker->identifier}\n";
                echo "  Scope: {$worker->scope}\n";
                echo "  Title: {$worker->title}\n";
                echo "  Status: " . ($worker->active ? 'Active' : 'Inactive') . "\n";
                echo "  Class: {$worker->class}\n";
                echo "\n";
            }
        });

        $this->assertSame(
            "Total workers: 2\n\n"
            . "Worker: product\n  Scope: scommerce\n  Title: Products\n  Status: Active\n  Class: Examples\\Workers\\ProductWorker\n\n"
            . "Worker: email_campaign\n  Scope: newsletter\n  Title: Email Campaign\n  Status: Inactive\n  Class: Examples\\Workers\\EmailCampaignWorker\n\n",
            $out
        );
        $this->assertSame(1, sTask::getWorkers(activeOnly: true)->count());
    }

    public function testFilterWorkersByScopeListsActiveCommerceWorkers(): void
    {
        sTask::registerWorker(ProductSyncWorker::class);
        sTask::registerWorker(ProductWorker::class);
        sTask::registerWorker(EmailCampaignWorker::class);
        sTask::activateWorker('product');
        sTask::activateWorker('product_sync');
        sTask::activateWorker('email_campaign');
        sWorker::where('identifier', 'product_sync')->update(['position' => 9]);

        $out = $this->output(function (): void {
            // Get only sCommerce workers
            $commerceWorkers = sWorker::byScope('scommerce')
                ->active()
                ->ordered()
                ->get();

            foreach ($commerceWorkers as $worker) {
                echo "{$worker->identifier}: {$worker->title}\n";
            }
        });

        $this->assertSame("product: Products\nproduct_sync: Product Sync\n", $out);
    }

    public function testActivateAndDeactivateWorkersByIdentifierAndThroughTheModel(): void
    {
        sTask::registerWorker(ProductWorker::class);
        sTask::registerWorker(OldImportWorker::class);
        sTask::activateWorker('old_import');

        $out = $this->output(function (): void {
            // Activate a worker
            sTask::activateWorker('product');
            echo "Product worker activated\n";

            // Deactivate a worker
            sTask::deactivateWorker('old_import');
            echo "Old import worker deactivated\n";
        });

        $this->assertSame("Product worker activated\nOld import worker deactivated\n", $out);
        $this->assertTrue(sTask::getWorker('product')->active);
        $this->assertFalse(sTask::getWorker('old_import')->active);
        $this->assertFalse(sTask::deactivateWorker('never_registered'));

        sTask::deactivateWorker('product');
        // Or directly via model
        $worker = sWorker::where('identifier', 'product')->first();
        $worker->active = true;
        $worker->save();

        $this->assertTrue(sTask::getWorker('product')->active);
        $this->assertSame(1, sWorker::active()->count());
    }

    // ------------------------------------------------------------ Statistics

    public function testTaskStatisticsCountEveryStatusAndListPendingTasks(): void
    {
        $this->activeWorker(ProductWorker::class);
        sTask::create('product', 'import', [], 'low');
        sTask::create('product', 'export', [], 'high');
        sTask::create('product', 'import')->markAsFinished();
        sTask::create('product', 'import')->markAsFailed('boom');
        $cancel = sTask::create('product', 'import');
        $this->assertTrue(sTask::cancel($cancel->id));

        $out = $this->output(function (): void {
            // Get comprehensive statistics
            $stats = sTask::getStats();

            echo "Task Statistics:\n";
            echo "  Pending: {$stats['pending']}\n";
            echo "  Running: {$stats['running']}\n";
            echo "  Completed: {$stats['completed']}\n";
            echo "  Failed: {$stats['failed']}\n";
            echo "  Cancelled: {$stats['cancelled']}\n";
            echo "  Total: {$stats['total']}\n";

            // Get pending tasks details
            $pending = sTask::getPendingTasks(limit: 10);

            echo "\nPending Tasks:\n";
            foreach ($pending as $task) {
                echo "  #{$task->id}: {$task->identifier} -> {$task->action}\n";
                echo "    Priority: {$task->priority}\n";
                echo "    Created: {$task->created_at->diffForHumans()}\n";
            }
        });

        $this->assertMatchesRegularExpression(
            '/^Task Statistics:\n  Pending: 2\n  Running: 0\n  Completed: 1\n  Failed: 1\n  Cancelled: 1\n  Total: 5\n'
            . '\nPending Tasks:\n'
            . '  #2: product -> export\n    Priority: high\n    Created: (\d+ seconds?|1 minute) ago\n'
            . '  #1: product -> import\n    Priority: low\n    Created: (\d+ seconds?|1 minute) ago\n$/',
            $out
        );
        $stats = sTask::getStats();
        $this->assertSame(1, $stats['total_workers']);
        $this->assertSame(1, $stats['active_workers']);
        $this->assertSame(0, $stats['preparing']);
    }

    // ------------------------------------------------------------- Cleanup

    public function testCleanupOperationsDeleteOnlyWhatTheyName(): void
    {
        $oldDone = sTask::create('product', 'import');
        $oldDone->markAsFinished();
        $oldDone->update(['finished_at' => now()->subDays(31)]);
        $newDone = sTask::create('product', 'import');
        $newDone->markAsFinished();
        $oldFailed = sTask::create('product', 'import');
        $oldFailed->markAsFailed('old failure');
        $oldFailed->update(['finished_at' => now()->subDays(8)]);
        $newFailed = sTask::create('product', 'import');
        $newFailed->markAsFailed('new failure');
        sTask::create('product', 'import');                // pending
        sTask::create('product', 'export')->markAsRunning(); // running

        $out = $this->output(function (): void {
            // Remove completed tasks older than 30 days
            $deletedTasks = sTask::cleanOldTasks(days: 30);
            echo "Deleted {$deletedTasks} old tasks\n";

            // Remove failed tasks older than 7 days
            $deleted = sTaskModel::failed()
                ->where('finished_at', '<', now()->subDays(7))
                ->delete();

            echo "Deleted {$deleted} old failed tasks\n";

            // Get all incomplete tasks (pending, preparing, running)
            $incomplete = sTaskModel::incomplete()->get();
            echo "Found " . count($incomplete) . " incomplete tasks\n";
        });

        $this->assertSame("Deleted 1 old tasks\nDeleted 1 old failed tasks\nFound 2 incomplete tasks\n", $out);
        $this->assertNull(sTaskModel::find($oldDone->id));
        $this->assertNull(sTaskModel::find($oldFailed->id));
        $this->assertNotNull(sTaskModel::find($newDone->id));
        $this->assertNotNull(sTaskModel::find($newFailed->id));
        $this->assertSame(4, sTaskModel::query()->count());
    }

    // --------------------------------------------------- Configuration check

    public function testConfigurationCheckCreatesATaskWhenSTaskIsInstalled(): void
    {
        $out = $this->output(function (): void {
            // Check if sTask is installed
            if (evo()->getConfig('check_sTask', false)) {
                // sTask is available
                $task = \Seiger\sTask\Facades\sTask::create(
                    identifier: 'my_worker',
                    action: 'process',
                    data: []
                );
            } else {
                // sTask not installed, use fallback
                $this->processDirectly();
            }

            $version = evo()->getConfig('sTaskVer', 'unknown');
            echo "sTask version: {$version}\n";
        });

        $this->assertSame('sTask version: ' . sTask::version() . "\n", $out);
        $this->assertMatchesRegularExpression('/^\d+\.\d+\.\d+/', sTask::version());
        $this->assertSame(1, sTaskModel::byIdentifier('my_worker')->byAction('process')->count());
    }

    private function processDirectly(): void
    {
        $this->fail('check_sTask is set, the fallback must not run');
    }

    // -------------------------------------------------------- Database tables

    public function testWorkerTableQueryExamples(): void
    {
        sTask::registerWorker(ProductWorker::class);
        sTask::registerWorker(ProductSyncWorker::class);
        sTask::registerWorker(EmailCampaignWorker::class);
        sTask::activateWorker('email_campaign');
        sTask::activateWorker('product_sync');

        // Get active workers
        $active = sWorker::active()->get();

        // Get workers by scope
        $commerce = sWorker::byScope('scommerce')->get();

        // Get ordered workers
        $ordered = sWorker::ordered()->get();

        $this->assertSame(['product_sync', 'email_campaign'], $active->pluck('identifier')->all());
        $this->assertSame(['product', 'product_sync'], $commerce->pluck('identifier')->all());
        $this->assertSame(['product', 'product_sync', 'email_campaign'], $ordered->pluck('identifier')->all());
        $this->assertSame([1, 2, 3], $ordered->pluck('position')->all());
    }

    public function testTaskTableQueryExamples(): void
    {
        sTask::create('product', 'import', [], 'high');
        sTask::create('product', 'export');
        sTask::create('email_campaign', 'send', [], 'low')->markAsRunning();
        sTask::create('product', 'import')->markAsFinished();
        sTask::create('product_sync', 'import', [], 'high')->markAsFailed('x');

        // Get pending tasks
        $pending = sTaskModel::pending()->get();

        // Get running tasks
        $running = sTaskModel::running()->get();

        // Get completed tasks
        $completed = sTaskModel::completed()->get();

        // Get failed tasks
        $failed = sTaskModel::failed()->get();

        // Get tasks by identifier
        $productTasks = sTaskModel::byIdentifier('product')->get();

        // Get tasks by action
        $imports = sTaskModel::byAction('import')->get();

        // Get high priority tasks
        $urgent = sTaskModel::highPriority()->get();

        $ids = static fn ($c): array => $c->pluck('id')->all();
        $this->assertSame([1, 2], $ids($pending));
        $this->assertSame([3], $ids($running));
        $this->assertSame([4], $ids($completed));
        $this->assertSame([5], $ids($failed));
        $this->assertSame([1, 2, 4], $ids($productTasks));
        $this->assertSame([1, 4, 5], $ids($imports));
        $this->assertSame([1, 5], $ids($urgent));
        $this->assertInstanceOf(sTaskModel::class, $pending->first());
    }

    // -------------------------------------------------------- Troubleshooting

    public function testTroubleshootingSpotsAnInactiveWorkerAndExplainsTheWaitingTask(): void
    {
        sTask::registerWorker(ProductWorker::class);
        sTask::create('product', 'import', ['rows' => 1]);
        sTask::processPendingTasks();

        $out = $this->output(function (): void {
            $worker = \Seiger\sTask\Models\sWorker::where('identifier', 'product')->first();
            if (!$worker->active) {
                echo "Worker is inactive!\n";
            }

            $task = \Seiger\sTask\Models\sTaskModel::find(1);
            echo "Status: {$task->status_text}\n";
            echo "Message: {$task->message}\n";
        });

        $this->assertMatchesRegularExpression("/^Worker is inactive!\nStatus: pending\nMessage: .*inactive.*\n$/i", $out);
        $this->assertSame(0, $this->task(1)->attempts, 'waiting for an inactive worker is not an attempt');
    }

    public function testTroubleshootingAWorkerImplementingOnlyTaskInterfaceIsDiscoveredAndRun(): void
    {
        InterfaceOnlyWorker::$runs = 0;

        sTask::discoverWorkers();
        $worker = sTask::getWorker('interface_only');
        $this->assertNotNull($worker, 'declared TaskInterface classes are discovered');
        $this->assertSame(InterfaceOnlyWorker::class, $worker->class);
        $this->assertSame('tests', $worker->scope);

        sTask::activateWorker('interface_only');
        sTask::create('interface_only', 'ping');
        sTask::processPendingTasks();

        $this->assertSame(1, InterfaceOnlyWorker::$runs);
        $this->assertSame('completed', $this->task(1)->status_text);
    }

    public function testTroubleshootingStoragePermissionsSnippetLeavesTheFolderWritable(): void
    {
        $path = storage_path('stask');
        if (!is_writable($path)) {
            chmod($path, 0755);
        }

        $this->assertSame($this->staskStorage, $path);
        $this->assertDirectoryIsWritable($path);
    }
}
