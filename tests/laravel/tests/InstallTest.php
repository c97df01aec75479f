<?php

namespace Tests;

/** The install steps of getting-started.md: migrate, vendor:publish, schedule, settings. */
class InstallTest extends HarnessTestCase
{
    public function testMigrateCreatesTablesAndPermission(): void
    {
        $this->migrate();

        $tables = $this->tables();
        foreach (['s_tasks', 's_workers', 'permissions_groups', 'permissions', 'role_permissions'] as $table) {
            $this->assertContains($this->prefix . $table, $tables);
        }

        $groups = $this->rows('permissions_groups', 'name = ?', ['sTask']);
        $this->assertCount(1, $groups);
        $key = $this->connection === 'mysql' ? '`key`' : '"key"';
        $permissions = $this->rows('permissions', "{$key} = ?", ['stask']);
        $this->assertCount(1, $permissions);
        $this->assertEquals($groups[0]['id'], $permissions[0]['group_id']);
        $this->assertEquals(0, $permissions[0]['disabled']);
        $roles = $this->rows('role_permissions', 'permission = ?', ['stask']);
        $this->assertCount(1, $roles);
        $this->assertEquals(1, $roles[0]['role_id']);

        // A second migrate is a no-op; rollback then migrate again stays consistent.
        $this->assertStringContainsString('Nothing to migrate', $this->artisanOk(['migrate', '--force']));
        $this->artisanOk(['migrate:rollback', '--force']);
        $this->assertNotContains($this->prefix . 's_tasks', $this->tables());
        $this->migrate();
        $this->assertCount(1, $this->rows('role_permissions', 'permission = ?', ['stask']));
    }

    public function testVendorPublishTag(): void
    {
        $this->migrate();
        $output = $this->artisanOk(['vendor:publish', '--tag=stask']);

        $alias = $this->dir . '/config/app/aliases/sTask.php';
        $this->assertFileExists($alias, $output);
        $this->assertStringContainsString('sTaskAlias', file_get_contents($alias));
        $this->assertDirectoryExists($this->dir . '/public/assets/site');
        $this->assertNotEmpty(glob($this->dir . '/public/assets/site/*'), 'assets published');
        $this->assertDirectoryExists($this->dir . '/storage/stask');

        // The app still boots with the published alias file under config/.
        $this->artisanOk(['list']);
        // stask:publish is the forced equivalent.
        $this->assertStringContainsString('published', $this->artisanOk(['stask:publish']));
    }

    public function testScheduleKeepsHostEntryAndAddsWorker(): void
    {
        $output = $this->artisanOk(['schedule:list']);
        $this->assertMatchesRegularExpression('/host:ping\s*\|\s*0 \* \* \* \*/', $output);
        $this->assertMatchesRegularExpression('/stask:worker\s*\|\s*\* \* \* \* \*/', $output);
    }

    public function testEvolutionSettingsAfterBoot(): void
    {
        $output = trim($this->artisanOk(['demo:config']));
        $data = json_decode($output, true);
        $this->assertIsArray($data, $output);
        $this->assertTrue($data['check_sTask']);
        $this->assertNotEmpty($data['extension']);
        $this->assertSame($data['extension'], $data['sTaskVer']);
        $this->assertSame($data['extension'], $data['facade']);
    }

    public function testWithoutTheExtensionTheHostBootsAndTheCommandsSayHowToLoadIt(): void
    {
        // PHP_INI_SCAN_DIR pointing at an empty folder: no extension.
        $empty = $this->dir . '/storage/no-ini';
        mkdir($empty);
        // The leading colon keeps the default scan folder (mbstring etc.).
        $env = ['PHP_INI_SCAN_DIR' => ':' . $empty];
        $list = $this->artisan(['list'], $env);
        $this->assertSame(0, $list->getExitCode(), $this->describe($list));
        $this->assertSame(0, $this->artisan(['host:ping'], $env)->getExitCode(), 'the host\'s own command');
        $worker = $this->artisan(['stask:worker'], $env);
        $this->assertSame(1, $worker->getExitCode());
        $this->assertStringContainsString('stask PHP extension', $worker->getOutput() . $worker->getErrorOutput());
        $this->assertStringContainsString('extension=stask', (string) file_get_contents($this->dir . '/storage/logs/laravel.log'));
    }
}
