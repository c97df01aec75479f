<?php

namespace Tests;

/**
 * The Evolution CMS glue of the package against Evolution's own permission
 * tables (created and seeded as Evolution CMS 3's installer does, see
 * database/migrations/2018_06_29_*): the `stask` permission migration, the
 * manager menu entry (OnManagerMenuPrerender) for users whose role has the
 * permission, and the settings read through evo()->getConfig().
 */
class EvolutionGlueTest extends HarnessTestCase
{
    private const EVOLUTION_COLUMNS = [
        'permissions_groups' => ['id', 'name', 'lang_key', 'created_at', 'updated_at'],
        'permissions' => ['id', 'name', 'key', 'lang_key', 'group_id', 'disabled', 'created_at', 'updated_at'],
        'role_permissions' => ['id', 'permission', 'role_id', 'created_at', 'updated_at'],
    ];

    private function keyColumn(): string
    {
        return $this->connection === 'mysql' ? '`key`' : '"key"';
    }

    /** [name => type] of a table of this test's prefix. */
    private function columns(string $table): array
    {
        $name = $this->prefix . $table;
        $pdo = $this->pdo();
        switch ($this->connection) {
            case 'sqlite':
                $rows = $pdo->query("PRAGMA table_info(\"{$name}\")")->fetchAll(\PDO::FETCH_ASSOC);

                return array_column($rows, 'type', 'name');
            case 'mysql':
                $sql = 'SELECT column_name AS n, CONCAT(column_type, \' \', extra) AS t FROM information_schema.columns '
                    . 'WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position';
                break;
            default:
                $sql = 'SELECT column_name AS n, CONCAT(data_type, \' \', COALESCE(column_default, \'\')) AS t '
                    . 'FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position';
        }
        $statement = $pdo->prepare($sql);
        $statement->execute([$name]);

        return array_column($statement->fetchAll(\PDO::FETCH_ASSOC), 't', 'n');
    }

    private function staskRows(): array
    {
        return [
            'groups' => $this->rows('permissions_groups', 'name = ?', ['sTask']),
            'permissions' => $this->rows('permissions', "{$this->keyColumn()} = ?", ['stask']),
            'grants' => $this->rows('role_permissions', 'permission = ?', ['stask']),
        ];
    }

    public function testPermissionTablesAreEvolutions(): void
    {
        $this->migrate();
        foreach (self::EVOLUTION_COLUMNS as $table => $columns) {
            $actual = $this->columns($table);
            $this->assertSame($columns, array_keys($actual), $table);
            $id = strtolower($actual['id']);
            switch ($this->connection) {
                case 'mysql':
                    // $table->integer('id', true): signed, not increments()'s unsigned.
                    $this->assertMatchesRegularExpression('/^int(\(11\))? auto_increment$/', $id, $table);
                    break;
                case 'pgsql':
                    $this->assertStringStartsWith('integer nextval(', $id, $table);
                    break;
                default:
                    $this->assertSame('integer', $id, $table);
            }
        }
        // The installer's rows are there: explicit group ids, grants of roles 1 and 2.
        $this->assertSame(['1', '2', '3'], array_map('strval', array_slice(array_column($this->rows('permissions_groups'), 'id'), 0, 3)));
        $this->assertCount(5, $this->rows('role_permissions', 'role_id = 2'));
    }

    public function testPermissionMigrationInsertsIsIdempotentAndRollsBack(): void
    {
        $this->migrate();
        $rows = $this->staskRows();
        $this->assertCount(1, $rows['groups']);
        $group = $rows['groups'][0];
        $this->assertSame('sTask::global.permissions_group', $group['lang_key']);
        // Evolution's seeders used ids 1..3 explicitly; the new group follows
        // them (on PostgreSQL only because the migration moved the sequence).
        $this->assertGreaterThan(3, (int) $group['id']);
        $this->assertCount(1, $rows['permissions']);
        $permission = $rows['permissions'][0];
        $this->assertSame('Access sTask Interface', $permission['name']);
        $this->assertSame('sTask::global.permission_access', $permission['lang_key']);
        $this->assertEquals($group['id'], $permission['group_id']);
        $this->assertEquals(0, $permission['disabled']);
        $this->assertNotNull($permission['created_at']);
        $this->assertCount(1, $rows['grants']);
        $this->assertEquals(1, $rows['grants'][0]['role_id'], 'granted to the Administrator role');
        $this->assertCount(7, $this->rows('permissions'), 'the 6 seeded permissions are untouched');

        // Run the permission migration again (a reinstall), over a row an
        // older sTask left behind with other values: one group, one
        // permission, one grant, values repaired.
        $pdo = $this->pdo();
        $pdo->prepare("UPDATE {$this->prefix}permissions SET name = 'Old name', disabled = 1 WHERE {$this->keyColumn()} = 'stask'")->execute();
        $pdo->prepare("DELETE FROM {$this->prefix}migrations WHERE migration = ?")->execute(['2025_10_15_000001_add_stask_permissions']);
        $this->assertStringContainsString('add_stask_permissions', $this->artisanOk(['migrate', '--force']));
        $again = $this->staskRows();
        $this->assertCount(1, $again['groups']);
        $this->assertSame($group['id'], $again['groups'][0]['id']);
        $this->assertCount(1, $again['permissions']);
        $this->assertSame('Access sTask Interface', $again['permissions'][0]['name']);
        $this->assertEquals(0, $again['permissions'][0]['disabled']);
        $this->assertCount(1, $again['grants']);

        // Rolling back that batch (only the permission migration) removes the
        // grant, the permission and the emptied group, nothing else.
        $this->artisanOk(['migrate:rollback', '--force']);
        $gone = $this->staskRows();
        $this->assertSame([[], [], []], array_values($gone));
        $this->assertCount(6, $this->rows('permissions'));
        $this->assertCount(3, $this->rows('permissions_groups'));
        $this->assertContains($this->prefix . 's_tasks', $this->tables(), 'the task tables stay');

        // Back again, then the whole install rolls back cleanly.
        $this->migrate();
        $this->assertCount(1, $this->staskRows()['grants']);
        $this->artisanOk(['migrate:rollback', '--force']);
        $this->artisanOk(['migrate:rollback', '--force']);
        $left = array_filter($this->tables(), fn ($t) => str_starts_with($t, $this->prefix) && $t !== $this->prefix . 'migrations');
        $this->assertSame([], array_values($left));
    }

    public function testPermissionMigrationIsSkippedWithoutEvolutionTables(): void
    {
        // A plain Laravel host: no Evolution permission tables.
        foreach (glob($this->dir . '/database/migrations/2018_06_29_*.php') as $file) {
            unlink($file);
        }
        $this->migrate();
        $tables = $this->tables();
        $this->assertContains($this->prefix . 's_tasks', $tables);
        $this->assertNotContains($this->prefix . 'permissions', $tables);
        $this->artisanOk(['migrate:rollback', '--force']);
        $this->assertNotContains($this->prefix . 's_tasks', $this->tables());
    }

    private function menu(array $args = [], array $env = []): array
    {
        $output = trim($this->artisanOk(array_merge(['demo:menu'], $args), $env));
        $data = json_decode($output, true);
        $this->assertIsArray($data, $output);

        return $data;
    }

    public function testManagerMenuEntryOnlyForRolesWithThePermission(): void
    {
        $this->migrate();
        $base = ['site', 'tools', 'refresh_site'];

        // Not logged in, or a role without `stask`: the menu is left alone.
        foreach ([[], ['--role=2', '--user=7']] as $args) {
            $data = $this->menu($args);
            $this->assertSame(0, $data['results'], json_encode($args));
            $this->assertSame($base, array_keys($data['menu']));
        }

        // The Administrator role has it since the migration: Tools -> Task Manager.
        $data = $this->menu(['--role=1']);
        $this->assertSame(1, $data['results']);
        $this->assertSame(array_merge($base, ['stask']), array_keys($data['menu']), 'added, the rest kept');
        [$id, $parent, $label, $href, $title, $onclick, $permission, $target, $divider, $sort, $class] = $data['menu']['stask'];
        $this->assertSame('stask', $id);
        $this->assertSame('tools', $parent);
        $this->assertStringContainsString('Task Manager', $label);
        $this->assertMatchesRegularExpression('#/stask$#', $href);
        $this->assertSame('Task Manager', $title);
        $this->assertSame(['', '', 'main', 0, 10, ''], [$onclick, $permission, $target, $divider, $sort, $class]);

        // Granting `stask` to role 2 (Roles screen) shows it at that role's next login.
        $this->pdo()->prepare("INSERT INTO {$this->prefix}role_permissions (permission, role_id) VALUES ('stask', 2)")->execute();
        $data = $this->menu(['--role=2', '--user=7']);
        $this->assertArrayHasKey('stask', $data['menu']);

        // Translated with the manager's language.
        $data = $this->menu(['--role=1'], ['APP_LOCALE' => 'uk']);
        $this->assertSame('Менеджер задач', $data['menu']['stask'][4]);

        // Revoked: gone again at the next login.
        $this->pdo()->prepare("DELETE FROM {$this->prefix}role_permissions WHERE permission = 'stask'")->execute();
        $this->assertArrayNotHasKey('stask', $this->menu(['--role=1'])['menu']);
        $this->assertArrayNotHasKey('stask', $this->menu(['--role=2', '--user=7'])['menu']);
    }

    public function testSettingsThroughEvo(): void
    {
        $data = json_decode(trim($this->artisanOk(['demo:config'])), true);
        $this->assertIsArray($data);
        $this->assertTrue($data['check_sTask']);
        $this->assertNotEmpty($data['extension']);
        $this->assertSame($data['extension'], $data['sTaskVer']);
        $this->assertSame($data['extension'], $data['facade']);
        $this->assertSame('stask harness', $data['site_name'], 'the host\'s own settings are kept');
        $this->assertSame('fallback', $data['missing']);
        $this->assertSame(1, $data['concurrency']);

        $data = json_decode(trim($this->artisanOk(['demo:config'], ['STASK_CONCURRENCY' => '3'])), true);
        $this->assertSame(3, $data['concurrency']);
    }
}
